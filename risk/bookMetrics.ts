/**
 * The risk desk's success metrics for the book against its committed budget, measured every cycle:
 *
 * - risk_utilization (total and per strategy): σ(actual positions) / σ(target positions), both under
 *   the covariance the budget is sized on (the configured estimator, `estimateRisk`), so correlation
 *   counts — never Σ wᵢσᵢ;
 * - book_forecast_vol vs target_vol: the actual book's forecast vol and the regime's vol target;
 * - book_realized_vol and return_per_risk: the current book replayed over the window's daily returns,
 *   annualized mean ÷ annualized vol;
 * - gross_utilization: gross notional held / gross limit.
 * A held asset outside the budget's universe has no row in Σ: it counts in gross utilization (and the
 * gate's checks), not in the vol figures.
 */
import type { RiskBudget } from './budget';
import type { RiskConfig } from './config';
import type { CovarianceMatrix } from './covariance';
import { budgetedPrices, estimateRisk } from './engine';
import type { Holding } from './holdings';
import type { MetricName } from './kinds';
import { portfolioVol } from './measures';
import { alignedReturns } from './returns';
import type { PriceTable } from './timeseries';
import { weights } from './units';

export interface MetricSample {
  readonly name: MetricName;
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface BookMetricInputs {
  readonly budget: RiskBudget;
  readonly holdings: readonly Holding[];
  /** The estimation window (`lookback_days` + 1 rows) ending at the cycle's bar. */
  readonly prices: PriceTable;
  readonly config: RiskConfig;
}

export function bookMetrics({ budget, holdings, prices, config }: BookMetricInputs): MetricSample[] {
  const out: MetricSample[] = [];
  const put = (name: MetricName, value: number, labels: Record<string, string> = {}) => {
    if (Number.isFinite(value)) out.push({ name, value, labels });
  };
  put('target_vol', budget.volTarget);
  const gross = holdings.reduce((s, h) => s + Math.abs(h.notional), 0);
  put('gross_utilization', budget.limits.maxGrossNotional > 0 ? gross / budget.limits.maxGrossNotional : 0);

  const cov = estimateRisk(budgetedPrices(prices, config), config).estimate.covariance;
  const actual = (strategy?: string) => holdings.filter((h) => strategy === undefined || h.strategy === strategy);
  const target = (strategy?: string) =>
    budget.assets
      .filter((a) => strategy === undefined || a.strategy === strategy)
      .map((a) => ({ asset: a.asset, notional: a.targetNotional }));
  const bookVol = volOf(cov, actual(), budget.limits.capital);
  put('book_forecast_vol', bookVol);
  const targetVol = volOf(cov, target(), budget.limits.capital);
  if (targetVol > 0) put('risk_utilization', bookVol / targetVol, { scope: 'total' });
  for (const s of budget.strategies) {
    const strategyTarget = volOf(cov, target(s.strategy), budget.limits.capital);
    if (strategyTarget > 0)
      put('risk_utilization', volOf(cov, actual(s.strategy), budget.limits.capital) / strategyTarget, {
        scope: 'strategy',
        strategy: s.strategy,
      });
  }

  const realized = replayedBook(prices, actual(), budget.limits.capital, config);
  if (realized) {
    put('book_realized_vol', realized.vol);
    if (realized.vol > 0) put('return_per_risk', realized.mean / realized.vol);
  }
  return out;
}

/** √(wᵀΣw) of notionals per asset as fractions of capital (notionals summed per asset; assets outside Σ ignored). */
export function volOf(cov: CovarianceMatrix<'annualized'>, book: readonly { asset: string; notional: number }[], capital: number): number {
  return portfolioVol(cov, weights(cov.assets.map((a) => book.reduce((s, h) => (h.asset === a ? s + h.notional : s), 0) / capital)));
}

/** The current book held over the window: annualized mean and vol of its daily P&L (fraction of capital). */
function replayedBook(
  prices: PriceTable,
  holdings: readonly Holding[],
  capital: number,
  config: RiskConfig,
): { mean: number; vol: number } | null {
  const { returns } = alignedReturns(prices, { kind: 'simple', minHistory: 2 });
  const w = returns.assets.map((a) => holdings.reduce((s, h) => (h.asset === a ? s + h.notional : s), 0) / capital);
  if (returns.dates.length < 2 || w.every((x) => x === 0)) return null;
  const pnl = returns.dates.map((_, t) => returns.columns.reduce((s, col, i) => s + w[i] * col[t], 0));
  const mean = pnl.reduce((s, x) => s + x, 0) / pnl.length;
  const sd = Math.sqrt(pnl.reduce((s, x) => s + (x - mean) ** 2, 0) / (pnl.length - 1));
  return { mean: mean * config.periodsPerYear, vol: sd * Math.sqrt(config.periodsPerYear) };
}
