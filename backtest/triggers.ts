/**
 * Trigger-driven rebalancing for the backtest: every close, the production triggers (risk/triggers.ts)
 * are evaluated against the last committed budget, exactly as the control loop does; any trigger that
 * fires recomputes the budget. Measurements, all from data up to the close:
 * - positions: the drifted book, weight × the budget's capital (weights of NAV, as the triggers expect);
 * - covariance / average correlation: the engine's estimator on the trailing estimation window;
 * - realized vol: trailing stdev of the *current* book's daily returns (today's weights applied to the last
 *   `regime_detection.vol_window` days), annualized — what the book would have done, not what it did.
 */
import type { RiskConfig } from '../risk/config';
import type { CovarianceMatrix } from '../risk/covariance';
import { averagePairwiseCorrelation } from '../risk/measures';
import { trailingAnnualizedVol } from '../risk/regime/features';
import { type Positions, evaluateTriggers } from '../risk/triggers';
import { currency } from '../risk/units';
import type { TriggerCheck } from './strategies';
import { windowCovariance } from './strategies';
import { configuredAssets, eligibleUniverse } from './universe';

/**
 * Estimation-window covariances by day. Books with the same universe and covariance settings (vol-target
 * and dynamic) measure the same matrix, so one run estimates it once per day.
 */
export type CovarianceCache = Map<number, CovarianceMatrix<'annualized'>>;

export function productionTriggerCheck(config: RiskConfig, cache: CovarianceCache = new Map()): TriggerCheck {
  let lastRegimeRebalanceAtMs: number | null = null;
  const allowed = configuredAssets(config);
  return (market, book, reading, previous) => {
    if (!previous) return 'initial budget';
    const universe = eligibleUniverse(market, config.lookbackDays, allowed);
    if (universe.indices.length === 0) return undefined;
    const assets = market.table.assets;
    const capital = previous.limits.capital;
    const positions: Record<string, ReturnType<typeof currency>> = {};
    for (let i = 0; i < assets.length; i++) if (book.weights[i] !== 0) positions[assets[i]] = currency(book.weights[i] * capital);
    let covariance = cache.get(market.today);
    if (!covariance || covariance.assets.length !== universe.indices.length) {
      covariance = windowCovariance(universe.window, config);
      cache.set(market.today, covariance);
    }
    const nowMs = Date.parse(`${market.table.dates[market.today]}T00:00:00Z`);
    const results = evaluateTriggers({
      settings: config.triggers,
      budget: previous,
      positions: positions as Positions,
      regime: { detectedRegime: reading.regime, lastRegimeRebalanceAtMs, nowMs },
      averageCorrelation: averagePairwiseCorrelation(covariance),
      realizedVol: bookRealizedVol(market, book.weights, config),
      covariance,
    });
    const fired = results.filter((r) => r.fired).map((r) => r.kind);
    if (fired.length === 0) return undefined;
    if (fired.includes('regime-change')) lastRegimeRebalanceAtMs = nowMs;
    return fired.join('+');
  };
}

function bookRealizedVol(market: Parameters<TriggerCheck>[0], w: ArrayLike<number>, config: RiskConfig) {
  const window = config.regimeDetection.volWindow;
  const days = Math.min(window, market.today);
  const returns = new Float64Array(days);
  for (let k = 0; k < days; k++) {
    const t = market.today - days + 1 + k;
    let r = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) r += w[i] * market.dailyReturn(i, t);
    returns[k] = r;
  }
  return trailingAnnualizedVol(returns, Math.max(2, days), config.periodsPerYear);
}
