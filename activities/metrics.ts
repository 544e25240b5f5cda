/**
 * The risk desk's success metrics, recorded every cycle as a time series in `metrics`:
 *
 * - risk_utilization (total and per strategy): σ(actual positions) / σ(target positions), both under
 *   the same covariance estimate, so correlation counts — never Σ wᵢσᵢ;
 * - book_forecast_vol vs target_vol: the actual book's forecast vol and the regime's vol target;
 * - book_realized_vol and return_per_risk: the current book's daily P&L over the lookback window,
 *   annualized mean ÷ annualized vol;
 * - gross_utilization: gross notional held / gross limit; index_realized_vol: the market's vol.
 * Regime response times, approval latencies and override counts are recorded where they happen.
 */
import type pg from 'pg';
import type { MarketDataService } from '../market/source';
import type { RiskBudget } from '../risk/budget';
import { annualizeCovariance, ledoitWolf } from '../risk/covariance';
import { portfolioVol } from '../risk/measures';
import { alignedReturns } from '../risk/returns';
import { weights } from '../risk/units';
import type { MarketRef, RegimeReading } from '../workflows/types';
import { loadHoldings } from './positions';
import { parseConfig } from './riskCycle';

export function metricActivities(deps: { pool: pg.Pool; market: MarketDataService }) {
  const { pool } = deps;
  return {
    async recordMetrics(input: {
      idempotencyKey: string;
      portfolioId: string;
      ref: MarketRef;
      config?: unknown;
      budget: RiskBudget | null;
      reading: RegimeReading;
    }): Promise<void> {
      const at = new Date();
      const put = (name: string, value: number, labels: Record<string, string> = {}) =>
        insertMetric(pool, `${input.idempotencyKey}:${name}:${JSON.stringify(labels)}`, input.portfolioId, name, value, labels, at);
      await put('index_realized_vol', input.reading.realizedVol);
      const budget = input.budget;
      if (!budget) return;
      const config = parseConfig(input.config);
      await put('target_vol', budget.volTarget);

      const holdings = await loadHoldings(pool, input.portfolioId, budget);
      const gross = holdings.reduce((s, h) => s + Math.abs(h.notional), 0);
      await put('gross_utilization', budget.limits.maxGrossNotional > 0 ? gross / budget.limits.maxGrossNotional : 0);

      const prices = await deps.market.window(input.ref, config.lookbackDays + 1);
      const { returns } = alignedReturns(prices, { kind: 'simple', minHistory: 2 });
      const cov = annualizeCovariance(ledoitWolf(returns).covariance, config.periodsPerYear);
      const capital = budget.limits.capital;
      const vector = (pick: (asset: string) => number) => weights(cov.assets.map((a) => pick(a) / capital));
      const sumBy = (rows: { asset: string; value: number }[]) => (asset: string) =>
        rows.reduce((s, r) => (r.asset === asset ? s + r.value : s), 0);

      const actualAll = sumBy(holdings.map((h) => ({ asset: h.asset, value: h.notional })));
      const targetAll = sumBy(budget.assets.map((a) => ({ asset: a.asset, value: a.targetNotional })));
      const bookVol = portfolioVol(cov, vector(actualAll));
      const targetVol = portfolioVol(cov, vector(targetAll));
      await put('book_forecast_vol', bookVol);
      if (targetVol > 0) await put('risk_utilization', bookVol / targetVol, { scope: 'total' });
      for (const s of budget.strategies) {
        const actual = sumBy(holdings.filter((h) => h.strategy === s.strategy).map((h) => ({ asset: h.asset, value: h.notional })));
        const target = sumBy(
          budget.assets.filter((a) => a.strategy === s.strategy).map((a) => ({ asset: a.asset, value: a.targetNotional })),
        );
        const sTarget = portfolioVol(cov, vector(target));
        if (sTarget > 0)
          await put('risk_utilization', portfolioVol(cov, vector(actual)) / sTarget, { scope: 'strategy', strategy: s.strategy });
      }

      // The current book replayed over the window: daily P&L as a fraction of capital.
      const w = returns.assets.map((a) => actualAll(a) / capital);
      const pnl = returns.dates.map((_, t) => returns.columns.reduce((s, col, i) => s + w[i] * col[t], 0));
      if (pnl.length > 1 && w.some((x) => x !== 0)) {
        const mean = pnl.reduce((s, x) => s + x, 0) / pnl.length;
        const sd = Math.sqrt(pnl.reduce((s, x) => s + (x - mean) ** 2, 0) / (pnl.length - 1));
        const realized = sd * Math.sqrt(config.periodsPerYear);
        await put('book_realized_vol', realized);
        if (realized > 0) await put('return_per_risk', (mean * config.periodsPerYear) / realized);
      }
    },
  };
}

export async function insertMetric(
  pool: pg.Pool,
  key: string,
  portfolioId: string,
  name: string,
  value: number,
  labels: Record<string, string>,
  at: Date,
): Promise<void> {
  if (!Number.isFinite(value)) return;
  await pool.query(
    `INSERT INTO metrics (idempotency_key, portfolio_id, name, value, labels, observed_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING`,
    [key, portfolioId, name, value, JSON.stringify(labels), at],
  );
}
