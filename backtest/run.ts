/**
 * One backtest run: every strategy over the same prices, the same evaluation window, the same costs and
 * cash rate; then metrics over the full window and its development / out-of-sample split, and the
 * comparisons the report leads with. Pure: no I/O, no clock.
 */
import type { RiskConfig } from '../risk/config';
import type { PriceTable } from '../risk/timeseries';
import { DataError } from '../risk/timeseries';
import type { Fraction, PeriodsPerYear } from '../risk/units';
import { CRISIS_PERIODS, type CrisisPeriod } from './crises';
import { computeMetrics, drawdownReduction, type StrategyMetrics } from './metrics';
import { RegimeIndex, RuleRegimes, WalkForwardHmm, type WalkForwardHmmSettings } from './regimes';
import { type CalendarPeriod, firstIndexOnOrAfter } from './schedule';
import type { CovarianceCache } from './triggers';
import { configuredAssets } from './universe';
import { periodCashReturn, simulate, type SimulationTrace, type Strategy, type TargetPositions } from './simulator';
import {
  type EngineStrategy,
  type RegimeSource,
  type TriggerCheck,
  calendarCheck,
  engineStrategy,
  equalWeights,
  ercAllocator,
  fixedRegime,
  scaledStrategy,
  staticStrategy,
} from './strategies';

export const STRATEGY_NAMES = ['equal-weight', 'static-erc', 'static-erc-vol-matched', 'vol-target', 'dynamic'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
export const STATIC_BASELINES: readonly StrategyName[] = ['equal-weight', 'static-erc', 'static-erc-vol-matched'];

export interface BacktestSettings {
  readonly config: RiskConfig;
  readonly costBps: number;
  readonly cashRate: Fraction;
  readonly periodsPerYear: PeriodsPerYear;
  /** How the engine-driven books (vol-target, dynamic) decide to recompute; static books use the calendar. */
  readonly rebalance: 'calendar' | 'trigger';
  readonly calendarPeriod: CalendarPeriod;
  readonly regimeDetector: 'hmm' | 'rule';
  /** Column used as the regime index; default: equal-weighted average of the universe's returns. */
  readonly regimeIndex?: string;
  readonly hmm: WalkForwardHmmSettings;
  /** First evaluation date (decisions start there, earlier data is warm-up only). */
  readonly start?: string;
  /** First date of the out-of-sample part of the report; default: the start of the year 70 % into the window. */
  readonly outOfSampleStart?: string;
  /** Builds the trigger check for `rebalance: 'trigger'` (production triggers). */
  readonly triggerCheck?: (config: RiskConfig, cache: CovarianceCache) => TriggerCheck;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface DynamicExtras {
  readonly regimeSwitches: number;
  /** Trading days from each crisis start to the first close holding a de-risked budget; null = never within the crisis. */
  readonly responseTimesDays: Record<string, number | null>;
  readonly regimeDays: Record<string, number>;
  readonly budgetsComputed: number;
  /** Why budgets were recomputed: trigger kinds (joined with + when several fired) or the calendar. */
  readonly rebalanceReasons: Record<string, number>;
}

export interface PeriodResult {
  readonly start: string;
  readonly end: string;
  readonly strategies: Record<StrategyName, StrategyMetrics>;
  /** 1 − |MDD(dynamic)| / |MDD(baseline)| per static baseline: 0.3 = a 30 % shallower drawdown. */
  readonly drawdownReduction: Record<string, number>;
  /** capitalEfficiency(dynamic) / capitalEfficiency(baseline) − 1 per static baseline. */
  readonly capitalEfficiencyGain: Record<string, number>;
}

export interface BacktestResult {
  readonly evaluationStartDay: number;
  readonly outOfSampleStartDay: number;
  readonly volMatchScale: number;
  readonly full: PeriodResult;
  readonly development: PeriodResult;
  readonly outOfSample: PeriodResult;
  readonly dynamic: DynamicExtras;
  readonly traces: Record<StrategyName, SimulationTrace>;
  readonly dynamicStrategy: EngineStrategy;
  readonly regimeNames: readonly string[];
  readonly hmmRefits: readonly { readonly day: number; readonly observations: number; readonly stateVolsAnnual: readonly number[] }[];
  readonly crises: readonly CrisisPeriod[];
}

/** Passes over the data: four strategies, plus up to three for matching the static book's volatility. */
const VOL_MATCH_PASSES = 3;

export function runBacktest(table: PriceTable, settings: BacktestSettings): BacktestResult {
  const { config } = settings;
  const days = table.dates.length;
  const missing = [...(configuredAssets(config) ?? [])].filter((a) => !table.assets.includes(a));
  if (missing.length > 0) throw new DataError(`configured strategy assets have no price column: ${missing.join(', ')}`);
  const warmup = Math.max(config.lookbackDays + 1, settings.regimeDetector === 'hmm' ? settings.hmm.minTrainingDays + 1 : 0);
  const evaluationStartDay = Math.max(warmup, settings.start ? firstIndexOnOrAfter(table.dates, settings.start) : 0);
  if (evaluationStartDay >= days - 2) {
    throw new DataError(`not enough data: ${days} rows, ${warmup} needed for warm-up before the first decision`);
  }
  const totalWork = days * (4 + VOL_MATCH_PASSES);
  let passes = 0;
  const run = (strategy: Strategy): SimulationTrace => {
    const offset = passes++ * days;
    return simulate(table, strategy, {
      costBps: settings.costBps,
      cashRate: settings.cashRate,
      periodsPerYear: settings.periodsPerYear,
      firstDecisionDay: evaluationStartDay,
      onDay: settings.onProgress && ((day) => settings.onProgress!(offset + day + 1, totalWork)),
    });
  };

  const regimeIndex = new RegimeIndex(table.assets, settings.regimeIndex);
  const regimes: RegimeSource & { refits?: BacktestResult['hmmRefits'] } =
    settings.regimeDetector === 'hmm' ? new WalkForwardHmm(regimeIndex, config, settings.hmm) : new RuleRegimes(regimeIndex, config);
  if (settings.rebalance === 'trigger' && !settings.triggerCheck) throw new Error('rebalance "trigger" needs settings.triggerCheck');
  const covariances: CovarianceCache = new Map();
  const check = (c: RiskConfig) =>
    settings.rebalance === 'trigger' ? settings.triggerCheck!(c, covariances) : calendarCheck(settings.calendarPeriod);
  // Static ERC decides from market data only, so its decisions are recorded once and replayed, scaled.
  const ercDecisions = new Map<number, TargetPositions>();
  const erc = recordDecisions(staticStrategy('static-erc', ercAllocator(config), config, settings.calendarPeriod), ercDecisions);
  const dynamic = engineStrategy('dynamic', config, regimes, check(config));

  const traces = {
    'equal-weight': run(staticStrategy('equal-weight', equalWeights, config, settings.calendarPeriod)),
    'static-erc': run(erc),
    'vol-target': run(
      engineStrategy('vol-target', singleRegimeConfig(config), fixedRegime(config.regimes[0].name), check(singleRegimeConfig(config))),
    ),
    dynamic: run(dynamic),
  } as Record<StrategyName, SimulationTrace>;

  const window = { from: evaluationStartDay, to: days - 1 };
  const cash = periodCashReturn(settings.cashRate, settings.periodsPerYear);
  const vol = (trace: SimulationTrace) => computeMetrics(trace, table.dates, window, settings.periodsPerYear, cash).volAnnual;
  const targetVol = vol(traces.dynamic);
  // Weights drift and costs scale with size, so one constant is found by a few fixed-point passes.
  let scale = targetVol / vol(traces['static-erc']);
  let usedScale = scale;
  for (let pass = 0; pass < VOL_MATCH_PASSES; pass++) {
    usedScale = scale;
    const replayed: Strategy = { name: 'static-erc', decide: (market) => ercDecisions.get(market.today) };
    traces['static-erc-vol-matched'] = run(scaledStrategy('static-erc-vol-matched', replayed, usedScale));
    scale = usedScale * (targetVol / vol(traces['static-erc-vol-matched']));
  }

  const outOfSampleStartDay = Math.min(
    days - 2,
    Math.max(
      evaluationStartDay + 1,
      settings.outOfSampleStart
        ? firstIndexOnOrAfter(table.dates, settings.outOfSampleStart)
        : defaultSplit(table.dates, evaluationStartDay),
    ),
  );
  const period = (from: number, to: number) => periodResult(traces, table.dates, { from, to }, settings.periodsPerYear, cash);
  return {
    evaluationStartDay,
    outOfSampleStartDay,
    volMatchScale: usedScale,
    full: period(evaluationStartDay, days - 1),
    development: period(evaluationStartDay, outOfSampleStartDay),
    outOfSample: period(outOfSampleStartDay, days - 1),
    dynamic: dynamicExtras(dynamic, table.dates, evaluationStartDay, config),
    traces,
    dynamicStrategy: dynamic,
    regimeNames: config.regimes.map((r) => r.name),
    hmmRefits: regimes.refits ?? [],
    crises: CRISIS_PERIODS.filter((c) => c.end >= table.dates[evaluationStartDay] && c.start <= table.dates[days - 1]),
  };
}

/** Passes `inner`'s decisions through, keeping a copy by day. */
function recordDecisions(inner: Strategy, into: Map<number, TargetPositions>): Strategy {
  return {
    name: inner.name,
    decide(market, book) {
      const decision = inner.decide(market, book);
      if (decision) into.set(market.today, decision);
      return decision;
    },
  };
}

/** The calmest regime's policy as the only regime: vol targeting and caps, no regime detection. */
export function singleRegimeConfig(config: RiskConfig): RiskConfig {
  return { ...config, regimes: [config.regimes[0]], regimeDetection: { ...config.regimeDetection, states: 1 } };
}

function defaultSplit(dates: readonly string[], from: number): number {
  const at = dates[Math.floor(from + (dates.length - 1 - from) * 0.7)];
  return firstIndexOnOrAfter(dates, `${Number(at.slice(0, 4)) + 1}-01-01`);
}

function periodResult(
  traces: Record<StrategyName, SimulationTrace>,
  dates: readonly string[],
  window: { from: number; to: number },
  periods: number,
  cash: number,
): PeriodResult {
  const strategies = Object.fromEntries(
    STRATEGY_NAMES.map((name) => [name, computeMetrics(traces[name], dates, window, periods, cash)]),
  ) as Record<StrategyName, StrategyMetrics>;
  const dyn = strategies.dynamic;
  return {
    start: dates[window.from],
    end: dates[window.to],
    strategies,
    drawdownReduction: Object.fromEntries(STATIC_BASELINES.map((b) => [b, drawdownReduction(dyn.maxDrawdown, strategies[b].maxDrawdown)])),
    capitalEfficiencyGain: Object.fromEntries(
      STATIC_BASELINES.map((b) => [
        b,
        strategies[b].capitalEfficiency !== 0 ? dyn.capitalEfficiency / strategies[b].capitalEfficiency - 1 : Number.NaN,
      ]),
    ),
  };
}

/**
 * Regime switches and response times of the dynamic book. "De-risked" means the book holds (after the
 * next-close execution) a budget computed in one of the more turbulent half of the configured regimes
 * (bear or crisis with the default four).
 */
function dynamicExtras(strategy: EngineStrategy, dates: readonly string[], from: number, config: RiskConfig): DynamicExtras {
  const names = config.regimes.map((r) => r.name);
  const turbulent = new Set(names.slice(Math.floor(names.length / 2)));
  let switches = 0;
  const regimeDays: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let previous: string | undefined;
  for (let t = from; t < strategy.readings.length; t++) {
    const regime = strategy.readings[t]?.regime;
    if (regime === undefined) continue;
    if (previous !== undefined && regime !== previous) switches++;
    regimeDays[regime]++;
    previous = regime;
  }
  // Regime of the budget held at each close: a budget decided at day d is held from d + 1.
  const held: (string | undefined)[] = new Array(dates.length).fill(undefined);
  for (const b of strategy.budgets) for (let t = b.day + 1; t < dates.length; t++) held[t] = b.regime;
  const responseTimesDays: Record<string, number | null> = {};
  for (const crisis of CRISIS_PERIODS) {
    const s = firstIndexOnOrAfter(dates, crisis.start);
    if (s < from + 1 || s >= dates.length || crisis.start > dates[dates.length - 1]) continue;
    const e = Math.min(firstIndexOnOrAfter(dates, crisis.end), dates.length - 1);
    let hit: number | null = null;
    for (let t = s; t <= e; t++) {
      if (held[t] !== undefined && turbulent.has(held[t]!)) {
        hit = t - s;
        break;
      }
    }
    responseTimesDays[crisis.name] = hit;
  }
  const rebalanceReasons: Record<string, number> = {};
  for (const b of strategy.budgets) rebalanceReasons[b.reason] = (rebalanceReasons[b.reason] ?? 0) + 1;
  return { regimeSwitches: switches, responseTimesDays, regimeDays, budgetsComputed: strategy.budgets.length, rebalanceReasons };
}
