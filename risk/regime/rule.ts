/**
 * Volatility/trend rule classifier: the transparent fallback to the HMM, and its benchmark.
 *
 * Rule (regimes ordered calm → turbulent, as in `risk_budgeting.regime_allocations`):
 * 1. Realized vol = sample standard deviation of the last `volWindow` daily log returns of the index,
 *    annualized with √periodsPerYear.
 * 2. The regime is the first (calmest) one whose `maxVol` is at or above the realized vol; if the
 *    vol exceeds every threshold, the last (most turbulent) regime.
 * 3. Optional trend filter: if the last price is strictly below the mean of the last `trend.window`
 *    prices, the regime is raised to at least `trend.atLeast` (e.g. "bear"); it is never lowered.
 * Only the prices passed in are used, so passing history up to day t classifies day t without look-ahead.
 */
import { ConfigError, type RegimePolicy } from '../config';
import { DataError } from '../timeseries';
import type { AnnualizedVol, PeriodsPerYear } from '../units';
import { logReturns, trailingAnnualizedVol, trailingMean } from './features';

export type RuleRegime = Pick<RegimePolicy, 'name' | 'maxVol'>;

export interface RuleOptions {
  /** Regimes ordered calm → turbulent; `maxVol` must be non-decreasing along the list. */
  readonly regimes: readonly RuleRegime[];
  /** Number of daily returns in the realized-vol window (e.g. 21 ≈ one month). */
  readonly volWindow: number;
  readonly periodsPerYear: PeriodsPerYear;
  /** Price below its `window`-day moving average ⇒ at least regime `atLeast`. */
  readonly trend?: { readonly window: number; readonly atLeast: string };
}

export interface RuleClassification {
  readonly regime: string;
  /** Position of `regime` in the calm → turbulent list. */
  readonly index: number;
  readonly realizedVol: AnnualizedVol;
  /** True when the trend filter raised (or would have raised) the regime: price below its moving average. */
  readonly belowTrend: boolean;
}

export function classifyByRule(prices: ArrayLike<number>, options: RuleOptions): RuleClassification {
  validateRegimes(options.regimes);
  const { returns } = logReturns(prices);
  const realizedVol = trailingAnnualizedVol(returns, options.volWindow, options.periodsPerYear);
  let index = options.regimes.findIndex((r) => realizedVol <= r.maxVol);
  if (index < 0) index = options.regimes.length - 1;

  let belowTrend = false;
  if (options.trend) {
    const floor = trendFloorIndex(options.regimes, options.trend.atLeast);
    const average = trailingMean(prices, options.trend.window);
    if (Number.isNaN(average)) {
      throw new DataError(`need ${options.trend.window} prices for the trend moving average`);
    }
    belowTrend = lastObserved(prices) < average;
    if (belowTrend) index = Math.max(index, floor);
  }
  return { regime: options.regimes[index].name, index, realizedVol, belowTrend };
}

function validateRegimes(regimes: readonly RuleRegime[]): void {
  if (regimes.length === 0) throw new ConfigError('risk_budgeting.regime_allocations', 'at least one regime is required');
  for (let i = 1; i < regimes.length; i++) {
    if (regimes[i].maxVol < regimes[i - 1].maxVol) {
      throw new ConfigError(
        `risk_budgeting.regime_allocations.${regimes[i].name}.max_vol`,
        `must be >= the max_vol of the calmer regime "${regimes[i - 1].name}" (regimes are ordered calm → turbulent)`,
      );
    }
  }
}

function trendFloorIndex(regimes: readonly RuleRegime[], name: string): number {
  const index = regimes.findIndex((r) => r.name === name);
  if (index < 0) throw new ConfigError('risk_budgeting.regime_allocations', `trend filter regime "${name}" is not configured`);
  return index;
}

function lastObserved(prices: ArrayLike<number>): number {
  for (let t = prices.length - 1; t >= 0; t--) if (Number.isFinite(prices[t])) return prices[t];
  return Number.NaN;
}
