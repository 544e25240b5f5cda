/**
 * The book metrics are measured under the covariance the budget is sized on (the configured
 * estimator). Before, they always used Ledoit–Wolf: with the `sample` estimator the reported risk
 * utilization came from a different Σ than the budget's.
 */
import * as path from 'node:path';
import { readPriceFile } from '../../../market/csvPrices';
import { bookMetrics, volOf } from '../../../risk/bookMetrics';
import { DEFAULT_CONFIG_DOCUMENT, type RiskConfig, parseRiskConfig } from '../../../risk/config';
import { annualizeCovariance, ledoitWolf, sampleCovariance } from '../../../risk/covariance';
import { buildRiskBudget } from '../../../risk/engine';
import type { Holding } from '../../../risk/holdings';
import { alignedReturns } from '../../../risk/returns';
import { sliceTable } from '../../../risk/timeseries';
import { currency, periodsPerYear } from '../../../risk/units';

const SP500 = path.resolve(__dirname, '../../../../shared/data/skfolio/sp500_dataset.csv.gz');
const full = sliceTable(readPriceFile(SP500), { assets: ['AAPL', 'JNJ', 'XOM', 'KO', 'JPM'] });
const prices = sliceTable(full, { start: full.dates[full.dates.length - 127] }); // 126 returns = lookback_days
const configWith = (estimator: string): RiskConfig =>
  parseRiskConfig({
    risk_budgeting: { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting, covariance: { estimator, ewma_lambda: 0.94, min_observations: 20 } },
  });

/** A book that drifted: twice the target in AAPL, nothing in KO, the rest on target. */
function driftedBook(budget: ReturnType<typeof buildRiskBudget>): Holding[] {
  return budget.assets
    .filter((a) => a.asset !== 'KO')
    .map((a) => ({
      strategy: a.strategy,
      asset: a.asset,
      notional: currency(a.asset === 'AAPL' ? 2 * a.targetNotional : a.targetNotional),
    }));
}

const metric = (samples: ReturnType<typeof bookMetrics>, name: string, scope?: string) =>
  samples.find((s) => s.name === name && (scope === undefined || s.labels.scope === scope))?.value;

describe('book metrics', () => {
  const sample = configWith('sample');
  const budget = buildRiskBudget({ portfolioId: 'p1', asOf: prices.dates[126], prices, regime: 'neutral', config: sample });
  const holdings = driftedBook(budget);
  const samples = bookMetrics({ budget, holdings, prices, config: sample });
  const returns = alignedReturns(prices, { kind: 'simple', minHistory: 21, minObservations: 20 }).returns;
  const ppy = periodsPerYear(252);
  const targets = budget.assets.map((a) => ({ asset: a.asset, notional: a.targetNotional }));
  const utilizationUnder = (cov: ReturnType<typeof annualizeCovariance>) =>
    volOf(cov, holdings, budget.limits.capital) / volOf(cov, targets, budget.limits.capital);

  it('measures risk utilization under the configured covariance: σ(actual) / σ(target) with the sample Σ', () => {
    const direct = utilizationUnder(annualizeCovariance(sampleCovariance(returns).covariance, ppy));
    expect(metric(samples, 'risk_utilization', 'total')).toBeCloseTo(direct, 12);
    const ledoitWolfFigure = utilizationUnder(annualizeCovariance(ledoitWolf(returns).covariance, ppy));
    expect(Math.abs(direct - ledoitWolfFigure)).toBeGreaterThan(1e-4); // what was reported before
  });

  it("reports the target book's forecast vol as the budget's own forecast, so both sides share one Σ", () => {
    const targetVol = volOf(annualizeCovariance(sampleCovariance(returns).covariance, ppy), targets, budget.limits.capital);
    expect(targetVol).toBeCloseTo(budget.forecastVol, 10);
    const forecast = metric(samples, 'book_forecast_vol') as number;
    expect(forecast / targetVol).toBeCloseTo(metric(samples, 'risk_utilization', 'total') as number, 12);
  });

  it('reports gross utilization, the target vol, and per-strategy utilization', () => {
    const gross = holdings.reduce((s, h) => s + Math.abs(h.notional), 0);
    expect(metric(samples, 'gross_utilization')).toBeCloseTo(gross / budget.limits.maxGrossNotional, 12);
    expect(metric(samples, 'target_vol')).toBe(budget.volTarget);
    const perStrategy = samples.filter((s) => s.name === 'risk_utilization' && s.labels.scope === 'strategy');
    expect(perStrategy.map((s) => s.labels.strategy)).toEqual(budget.strategies.map((s) => s.strategy));
  });

  it('replays the held book over the window: annualized mean over annualized vol of its daily P&L', () => {
    const capital = budget.limits.capital;
    const w = returns.assets.map((a) => holdings.filter((h) => h.asset === a).reduce((s, h) => s + h.notional, 0) / capital);
    const pnl = returns.dates.map((_, t) => returns.columns.reduce((s, col, i) => s + w[i] * col[t], 0));
    const mean = pnl.reduce((s, x) => s + x, 0) / pnl.length;
    const sd = Math.sqrt(pnl.reduce((s, x) => s + (x - mean) ** 2, 0) / (pnl.length - 1));
    expect(metric(samples, 'book_realized_vol')).toBeCloseTo(sd * Math.sqrt(252), 12);
    expect(metric(samples, 'return_per_risk')).toBeCloseTo((mean * 252) / (sd * Math.sqrt(252)), 10);
  });

  it('skips the vol figures of an empty book (no P&L to replay)', () => {
    const empty = bookMetrics({ budget, holdings: [], prices, config: sample });
    expect(metric(empty, 'gross_utilization')).toBe(0);
    expect(metric(empty, 'book_realized_vol')).toBeUndefined();
  });
});
