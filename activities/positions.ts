/** The book as the risk code sees it: positions valued at the budget's reference prices. */
import type pg from 'pg';
import type { RiskBudget } from '../risk/budget';

export interface Holding {
  readonly strategy: string;
  readonly asset: string;
  /** Signed notional: quantity × the budget's reference price (the average cost for an asset the budget lacks). */
  readonly notional: number;
}

export async function loadHoldings(pool: pg.Pool, portfolioId: string, budget: RiskBudget): Promise<Holding[]> {
  const { rows } = await pool.query<{ strategy: string; asset: string; quantity: number; avg_price: number | null }>(
    'SELECT strategy, asset, quantity, avg_price FROM positions WHERE portfolio_id = $1',
    [portfolioId],
  );
  const prices = new Map(budget.assets.map((a) => [a.asset, a.referencePrice as number]));
  return rows.map((p) => ({ strategy: p.strategy, asset: p.asset, notional: p.quantity * (prices.get(p.asset) ?? p.avg_price ?? 0) }));
}
