/**
 * Walk-forward regime detection for the backtest, on the production regime reading (risk/regime/):
 * the same regime index (`marketIndex.ts`), the same rule reading and walk-forward HMM filter
 * (`reading.ts`, `walkForward.ts`), the same state → regime mapping and the same hysteresis over
 * regime probabilities (`tracker.ts`) as the live loop, advanced one day at a time through the
 * simulator's cursor (no look-ahead).
 * - `hmm`: a Gaussian HMM refitted on the index's log returns strictly before each refit day (the first
 *   trading day of every `refitYears` years, or every `refitEveryBars` rows as the live loop does), then
 *   filtered forward day by day: P(state_t | x_1..x_t), never smoothed probabilities.
 * - `rule`: the realized-vol/trend rule classifier on the same index.
 * Until the detector has its first reading, the regime is the calmest one.
 */
import type { RiskConfig } from '../risk/config';
import { type GaussianHmm, type HmmFilter, type RegimeTrack, type TrainingWindow, columnIndex, trackRegime } from '../risk/regime';
import { RegimeIndexBuilder } from '../risk/regime/marketIndex';
import { regimeProbabilities, ruleLevelsNeeded, ruleReading } from '../risk/regime/reading';
import { fitRegimeModel, primedFilter, trainingReturns } from '../risk/regime/walkForward';
import type { MarketCursor } from './simulator';
import type { DeclaredRegime, RegimeSource } from './strategies';

export interface WalkForwardHmmSettings {
  /** Refit on the first trading day of every `refitYears` calendar years... */
  readonly refitYears: number;
  /** ...or, when set, on every row that is a multiple of `refitEveryBars` (the live loop's schedule). */
  readonly refitEveryBars?: number;
  /** Training window: all history before the refit ('expanding') or the last `days` returns. */
  readonly window: TrainingWindow;
  /** Fewest training returns before the first fit; the regime is the calmest one until then. */
  readonly minTrainingDays: number;
  readonly restarts: number;
  readonly maxIterations: number;
  readonly tolerance: number;
  readonly seed: number;
}

export interface RegimeTrace {
  /** Model refits: the day they took effect and the training size. */
  readonly refits: readonly { readonly day: number; readonly observations: number; readonly stateVolsAnnual: readonly number[] }[];
}

/** The regime index advanced lazily, day by day, through the cursor (no look-ahead). */
export class RegimeIndex {
  /** Index level per day (NaN: no observation that day). */
  readonly level: number[] = [];
  /** ln(I_t / I_last); NaN on days without an observation. */
  readonly logReturns: number[] = [];
  private readonly builder: RegimeIndexBuilder;
  private readonly columns: readonly number[];

  constructor(assets: readonly string[], column: string | undefined) {
    this.columns = column === undefined ? assets.map((_, i) => i) : [columnIndex(assets, column)];
    this.builder = new RegimeIndexBuilder(this.columns.length);
  }

  advance(market: MarketCursor): void {
    const row = new Float64Array(this.columns.length);
    for (let t = this.level.length; t <= market.today; t++) {
      this.columns.forEach((c, i) => (row[i] = market.table.series[c][t]));
      const step = this.builder.step(row);
      this.level.push(step.level);
      this.logReturns.push(step.logReturn);
    }
  }
}

/** Declares the regime from readings, with the production hysteresis; the calmest regime until the first. */
class RegimeDeclarer {
  private track: RegimeTrack | null = null;
  private probabilities: readonly number[] | undefined;
  constructor(private readonly config: RiskConfig) {}

  observe(day: number, probabilities: readonly number[]): void {
    const regimes = this.config.regimes.map((r) => r.name);
    const { threshold, minDwell } = this.config.regimeDetection;
    this.track = trackRegime(this.track, [{ regimes, probabilities, bar: day }], { threshold, minDwell });
    this.probabilities = probabilities;
  }

  get current(): DeclaredRegime {
    return { regime: this.track?.regime ?? this.config.regimes[0].name, probabilities: this.probabilities };
  }
}

/** HMM regime source with walk-forward refits; see the module comment. */
export class WalkForwardHmm implements RegimeSource, RegimeTrace {
  readonly refits: { day: number; observations: number; stateVolsAnnual: number[] }[] = [];
  private readonly declared: RegimeDeclarer;
  private filter: HmmFilter | undefined;
  private processed = 0;
  private lastRefitYear = Number.NaN;

  constructor(
    private readonly index: RegimeIndex,
    private readonly config: RiskConfig,
    private readonly settings: WalkForwardHmmSettings,
  ) {
    this.declared = new RegimeDeclarer(config);
  }

  read(market: MarketCursor): DeclaredRegime {
    this.index.advance(market);
    for (let t = this.processed + 1; t <= market.today; t++) this.observe(market, t);
    this.processed = market.today;
    return this.declared.current;
  }

  private observe(market: MarketCursor, t: number): void {
    if (this.isRefitDay(market.table.dates, t)) this.refit(t, Number(market.table.dates[t].slice(0, 4)));
    if (!this.filter) return;
    const states = this.filter.step(this.index.logReturns[t]);
    this.declared.observe(
      t,
      regimeProbabilities(
        states,
        this.config.regimes.map((r) => r.name),
      ),
    );
  }

  private isRefitDay(dates: readonly string[], t: number): boolean {
    const every = this.settings.refitEveryBars;
    const year = Number(dates[t].slice(0, 4));
    const due =
      every !== undefined
        ? t % every === 0
        : this.filter === undefined || (year !== Number(dates[t - 1].slice(0, 4)) && year - this.lastRefitYear >= this.settings.refitYears);
    return due && trainingReturns(this.index.logReturns, t, this.settings.window).length >= this.settings.minTrainingDays;
  }

  /** Fits on data before t, then re-filters the training returns so the state probabilities are current. */
  private refit(t: number, year: number): void {
    const training = trainingReturns(this.index.logReturns, t, this.settings.window);
    const model = fitRegimeModel(training, { states: this.config.regimeDetection.states, ...this.settings });
    this.filter = primedFilter(model, training);
    this.lastRefitYear = year;
    this.refits.push({ day: t, observations: training.length, stateVolsAnnual: stateVols(model, this.config.periodsPerYear) });
  }
}

function stateVols(model: GaussianHmm, periods: number): number[] {
  return model.variances.map((v) => Math.sqrt(v[0] * periods));
}

/** Rule-classifier regime source (realized vol of the regime index vs each regime's max_vol, optional trend). */
export class RuleRegimes implements RegimeSource {
  private readonly declared: RegimeDeclarer;
  private processed = -1;
  private observed = 0;

  constructor(
    private readonly index: RegimeIndex,
    private readonly config: RiskConfig,
  ) {
    this.declared = new RegimeDeclarer(config);
  }

  read(market: MarketCursor): DeclaredRegime {
    this.index.advance(market);
    const needed = ruleLevelsNeeded(this.config);
    for (let t = this.processed + 1; t <= market.today; t++) {
      if (Number.isFinite(this.index.level[t])) this.observed++;
      if (this.observed >= needed) this.declared.observe(t, ruleReading(this.index.level, t, this.config).probabilities);
    }
    this.processed = market.today;
    return this.declared.current;
  }
}
