/**
 * Positions per (portfolio, strategy, asset): the one reader of the `positions` table. Fills write it
 * (see the fills store); the loop, the gate's reconciliation and the console read it here.
 */
import type pg from 'pg';
import type { Queryable } from '../pool';

export interface PositionRow {
  readonly portfolioId: string;
  readonly strategy: string;
  readonly asset: string;
  /** Signed units of the instrument. */
  readonly quantity: number;
  /** Average fill price, when known. */
  readonly avgPrice: number | null;
}

interface Row {
  portfolio_id: string;
  strategy: string;
  asset: string;
  quantity: number;
  avg_price: number | null;
}

const toPosition = (r: Row): PositionRow => ({
  portfolioId: r.portfolio_id,
  strategy: r.strategy,
  asset: r.asset,
  quantity: r.quantity,
  avgPrice: r.avg_price,
});

export class PositionsStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The positions of one portfolio. */
  async forPortfolio(portfolioId: string): Promise<PositionRow[]> {
    return positionsIn(this.pool, portfolioId);
  }

  /** Every portfolio's positions (the gate reconciles all it serves at once). */
  async all(): Promise<PositionRow[]> {
    const { rows } = await this.pool.query<Row>('SELECT portfolio_id, strategy, asset, quantity, avg_price FROM positions');
    return rows.map(toPosition);
  }
}

/** The positions of one portfolio, read inside the caller's transaction (a commit plans against them). */
export async function positionsIn(db: Queryable, portfolioId: string): Promise<PositionRow[]> {
  const { rows } = await db.query<Row>('SELECT portfolio_id, strategy, asset, quantity, avg_price FROM positions WHERE portfolio_id = $1', [
    portfolioId,
  ]);
  return rows.map(toPosition);
}
