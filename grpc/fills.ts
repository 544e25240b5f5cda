/** Fill persistence and position reconciliation against the `positions` table. */
import type pg from 'pg';
import type { FillRecord, GateCore } from './gate';
import type { BatchWriter } from './batchWriter';

/**
 * One statement per batch: insert the fills (a re-reported fill_id is skipped) and add exactly the
 * inserted ones to `positions`, so a retried batch never double-counts.
 */
const FILLS_SQL = `
  WITH incoming AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::bool[], $10::timestamptz[])
      AS t(fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at)
  ), inserted AS (
    INSERT INTO gate_fills (fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at, replica)
    SELECT DISTINCT ON (fill_id) fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at, $11 FROM incoming
    ON CONFLICT (fill_id) DO NOTHING
    RETURNING portfolio_id, strategy, instrument, side, quantity, price
  )
  INSERT INTO positions (portfolio_id, strategy, asset, quantity, avg_price, updated_at)
  SELECT portfolio_id, strategy, instrument, sum(CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END),
         sum(quantity * price) / NULLIF(sum(quantity), 0), now()
  FROM inserted GROUP BY portfolio_id, strategy, instrument
  ON CONFLICT (portfolio_id, strategy, asset) DO UPDATE
    SET quantity = positions.quantity + EXCLUDED.quantity,
        avg_price = COALESCE(EXCLUDED.avg_price, positions.avg_price), updated_at = now()`;

export function fillWriter(pool: pg.Pool, replica: string): (rows: readonly FillRecord[]) => Promise<void> {
  return async (rows) => {
    await pool.query(FILLS_SQL, [
      rows.map((r) => r.fillId),
      rows.map((r) => r.portfolioId),
      rows.map((r) => r.strategy),
      rows.map((r) => r.instrument),
      rows.map((r) => r.side),
      rows.map((r) => r.clientOrderId),
      rows.map((r) => r.quantity),
      rows.map((r) => r.price),
      rows.map((r) => r.orderDone),
      rows.map((r) => new Date(r.reportedAtMs).toISOString()),
      replica,
    ]);
  };
}

/**
 * Align in-memory positions with the table. Queued fills are written first and no flush runs until the
 * read is applied; fills reported meanwhile are recorded as deltas and added on top of the table.
 */
export async function reconcilePositions(pool: pg.Pool, core: GateCore, writer: BatchWriter<FillRecord>): Promise<void> {
  await writer.afterFlush(async () => {
    core.beginReconcile();
    try {
      const res = await pool.query<{ portfolio_id: string; strategy: string; asset: string; quantity: number; avg_price: number | null }>(
        'SELECT portfolio_id, strategy, asset, quantity, avg_price FROM positions',
      );
      core.endReconcile(
        res.rows.map((r) => ({
          portfolioId: r.portfolio_id,
          strategy: r.strategy,
          asset: r.asset,
          quantity: r.quantity,
          avgPrice: r.avg_price,
        })),
      );
    } catch (err) {
      core.endReconcileAborted();
      throw err;
    }
  });
}
