/**
 * Walk-forward regime detection for the backtest, using the production detectors only:
 * - `hmm`: a Gaussian HMM (risk/regime/hmm.ts) fitted on the regime index's daily log returns strictly
 *   before each refit date (expanding or rolling window), then run forward one day at a time with the
 *   production filter (risk/regime/filter.ts): P(state_t | x_1..x_t), never smoothed probabilities.
 * - `rule`: the realized-vol/trend rule classifier (risk/regime/rule.ts) on the same index.
 * Both go through the production hysteresis (risk/regime/hysteresis.ts) before a regime is declared.
 *
 * The regime index is a price path built from daily returns up to today: a named asset, or the
 * equal-weighted average return of the assets that were priced the day before (a market proxy).
 */
import type { RiskConfig } from '../risk/config';
import {
  fitGaussianHmm,
  HmmFilter,
  initialHysteresis,
  stepHysteresis,
  stateRegimeNames,
  classifyByRule,
  type GaussianHmm,
  type HysteresisState,
} from '../risk/regime';
import { DataError } from '../risk/timeseries';
import type { MarketCursor } from './simulator';
import type { RegimeReading, RegimeSource } from './strategies';

export interface WalkForwardHmmSettings {
  /** Refit on the first trading day of every `refitYears` calendar years. */
  readonly refitYears: number;
  /** Training window: all history before the refit ('expanding') or the last `rollingDays` returns. */
  readonly window: { readonly kind: 'expanding' } | { readonly kind: 'rolling'; readonly days: number };
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

/** Builds the regime index's log returns lazily, day by day, through the cursor (no look-ahead). */
export class RegimeIndex {
  /** logReturns[t] = ln(I_t / I_{t−1}); logReturns[0] = NaN. */
  readonly logReturns: number[] = [];
  /** Index level, 1 at day 0. */
  readonly level: number[] = [];

  constructor(private readonly asset: number | undefined) {}

  advance(market: MarketCursor): void {
    for (let t = this.level.length; t <= market.today; t++) {
      if (t === 0) {
        this.level.push(1);
        this.logReturns.push(Number.NaN);
        continue;
      }
      const r = this.dailyReturn(market, t);
      this.level.push(this.level[t - 1] * (1 + r));
      this.logReturns.push(Number.isFinite(r) ? Math.log1p(r) : Number.NaN);
    }
  }

  private dailyReturn(market: MarketCursor, t: number): number {
    if (this.asset !== undefined) return market.isListed(this.asset, t - 1) ? market.dailyReturn(this.asset, t) : Number.NaN;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < market.table.assets.length; i++) {
      if (!market.isListed(i, t - 1)) continue;
      sum += market.dailyReturn(i, t);
      n++;
    }
    return n === 0 ? Number.NaN : sum / n;
  }
}

export function regimeIndexAsset(assets: readonly string[], name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  const i = assets.indexOf(name);
  if (i < 0) throw new DataError(`regime index "${name}" is not a column of the price file (have: ${assets.join(', ')})`);
  return i;
}

/** HMM regime source with walk-forward refits; see the module comment. */
export class WalkForwardHmm implements RegimeSource, RegimeTrace {
  readonly refits: { day: number; observations: number; stateVolsAnnual: number[] }[] = [];
  private readonly names: string[];
  private filter: HmmFilter | undefined;
  private hysteresis: HysteresisState = initialHysteresis(0);
  private processed = 0;
  private lastRefitYear = Number.NaN;
  private probabilities: readonly number[] | undefined;

  constructor(
    private readonly index: RegimeIndex,
    private readonly config: RiskConfig,
    private readonly settings: WalkForwardHmmSettings,
  ) {
    this.names = stateRegimeNames(
      config.regimeDetection.states,
      config.regimes.map((r) => r.name),
    );
  }

  read(market: MarketCursor): RegimeReading {
    this.index.advance(market);
    for (let t = this.processed + 1; t <= market.today; t++) this.observe(market, t);
    this.processed = market.today;
    return { regime: this.names[this.hysteresis.current], probabilities: this.probabilities };
  }

  private observe(market: MarketCursor, t: number): void {
    if (this.isRefitDay(market.table.dates, t)) this.refit(t, Number(market.table.dates[t].slice(0, 4)));
    if (!this.filter) return;
    const probabilities = this.filter.step(this.index.logReturns[t]);
    this.probabilities = Array.from(probabilities);
    this.hysteresis = stepHysteresis(this.hysteresis, probabilities, this.hysteresisOptions());
  }

  private isRefitDay(dates: readonly string[], t: number): boolean {
    const year = Number(dates[t].slice(0, 4));
    const due =
      this.filter === undefined || (year !== Number(dates[t - 1].slice(0, 4)) && year - this.lastRefitYear >= this.settings.refitYears);
    return due && this.trainingReturns(t).length >= this.settings.minTrainingDays;
  }

  /** Returns strictly before day t (the refit day's own return is the first one filtered with the new model). */
  private trainingReturns(t: number): number[] {
    const from = this.settings.window.kind === 'rolling' ? Math.max(1, t - this.settings.window.days) : 1;
    return this.index.logReturns.slice(from, t).filter(Number.isFinite);
  }

  /** Fits on data before t, then re-filters the training returns so the state probabilities are current. */
  private refit(t: number, year: number): void {
    const training = this.trainingReturns(t);
    const fit = fitGaussianHmm(training, {
      states: this.config.regimeDetection.states,
      restarts: this.settings.restarts,
      maxIterations: this.settings.maxIterations,
      tolerance: this.settings.tolerance,
      seed: this.settings.seed,
    });
    this.filter = new HmmFilter(fit.model);
    for (const x of training) this.filter.step(x);
    this.lastRefitYear = year;
    this.refits.push({ day: t, observations: training.length, stateVolsAnnual: stateVols(fit.model, this.config.periodsPerYear) });
  }

  private hysteresisOptions() {
    return { threshold: this.config.regimeDetection.threshold, minDwell: this.config.regimeDetection.minDwell };
  }
}

function stateVols(model: GaussianHmm, periods: number): number[] {
  return model.variances.map((v) => Math.sqrt(v[0] * periods));
}

/** Rule-classifier regime source (realized vol of the regime index vs each regime's max_vol, optional trend). */
export class RuleRegimes implements RegimeSource {
  private hysteresis: HysteresisState = initialHysteresis(0);
  private processed = 0;

  constructor(
    private readonly index: RegimeIndex,
    private readonly config: RiskConfig,
  ) {}

  read(market: MarketCursor): RegimeReading {
    this.index.advance(market);
    const detection = this.config.regimeDetection;
    // Prices the classifier needs: volWindow returns, and the trend window when one is configured.
    const need = Math.max(detection.volWindow + 1, detection.trend?.window ?? 0);
    for (let t = Math.max(this.processed + 1, need - 1); t <= market.today; t++) {
      const prices = this.index.level.slice(t + 1 - need, t + 1);
      const { index } = classifyByRule(prices, {
        regimes: this.config.regimes,
        volWindow: detection.volWindow,
        periodsPerYear: this.config.periodsPerYear,
        trend: detection.trend ?? undefined,
      });
      const oneHot = this.config.regimes.map((_, k) => (k === index ? 1 : 0));
      this.hysteresis = stepHysteresis(this.hysteresis, oneHot, { threshold: detection.threshold, minDwell: detection.minDwell });
    }
    this.processed = market.today;
    return { regime: this.config.regimes[this.hysteresis.current].name };
  }
}
