/**
 * Executions the OMS reports through the gate (`gate_fills`) and the positions they move. Positions
 * are read through the positions store.
 */
import type pg from 'pg';
import { boolArray, numberArray, textArray } from '../arrayLiteral';
import type { Side } from '../../risk/kinds';

export interface FillRecord {
  readonly portfolioId: string;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: Side;
  readonly clientOrderId: string;
  readonly fillId: string;
  readonly quantity: number;
  readonly price: number;
  /** The OMS's last report for this order (filled, cancelled or expired). */
  readonly orderDone: boolean;
  readonly reportedAtMs: number;
}

/** The batch's fills as rows ($1–$10: one array per column). */
const INCOMING = `SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::bool[], $10::timestamptz[])
      AS t(fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at)`;

/** Inserts the incoming fills for replica $11; a re-reported fill_id is skipped. Returns what was inserted. */
const INSERT_FILLS = `INSERT INTO gate_fills (fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at, replica)
    SELECT DISTINCT ON (fill_id) fill_id, portfolio_id, strategy, instrument, side, client_order_id, quantity, price, order_done, reported_at, $11 FROM incoming
    ON CONFLICT (fill_id) DO NOTHING
    RETURNING portfolio_id, strategy, instrument, side, quantity, price`;

/** Adds exactly the inserted fills to `positions`, so a retried batch never double-counts. */
const MOVE_POSITIONS = `INSERT INTO positions (portfolio_id, strategy, asset, quantity, avg_price, updated_at)
    SELECT portfolio_id, strategy, instrument, sum(CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END),
           sum(quantity * price) / NULLIF(sum(quantity), 0), now()
    FROM inserted GROUP BY portfolio_id, strategy, instrument
    ON CONFLICT (portfolio_id, strategy, asset) DO UPDATE
      SET quantity = positions.quantity + EXCLUDED.quantity,
          avg_price = COALESCE(EXCLUDED.avg_price, positions.avg_price), updated_at = now()`;

/** One statement per batch: insert the fills and move positions by exactly those inserted. */
const FILLS_SQL = `
  WITH incoming AS (${INCOMING}), inserted AS (${INSERT_FILLS})
  ${MOVE_POSITIONS}`;

/**
 * The same, only for fills whose portfolio lease `$12` still holds with the fill's fencing token (gate
 * HA; the lease row locked FOR SHARE as in gateDecisions.ts): returns the portfolios whose lease was held.
 */
const FENCED_FILLS_SQL = `
  WITH held AS (
    SELECT l.portfolio_id FROM gate_leases l
    JOIN unnest($13::text[], $14::int8[]) AS h(portfolio_id, token) ON h.portfolio_id = l.portfolio_id AND h.token = l.fencing_token
    WHERE l.owner = $12
    FOR SHARE OF l
  ), incoming AS (
    ${INCOMING}
    WHERE t.portfolio_id IN (SELECT portfolio_id FROM held)
  ), inserted AS (${INSERT_FILLS}), moved AS (${MOVE_POSITIONS}
  )
  SELECT portfolio_id FROM held`;

export class FillsStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Fill ids reported to `replica` after `sinceMs` (the newest `limit`), oldest first: its duplicate-fill memory. */
  async idsSince(
    replica: string,
    sinceMs: number,
    limit: number,
  ): Promise<Array<{ portfolioId: string; fillId: string; reportedAtMs: number }>> {
    const { rows } = await this.pool.query<{ portfolio_id: string; fill_id: string; at_ms: number }>(
      `SELECT portfolio_id, fill_id, at_ms FROM (
         SELECT portfolio_id, fill_id, reported_at, (extract(epoch FROM reported_at) * 1000)::float8 AS at_ms FROM gate_fills
         WHERE replica = $1 AND reported_at > $2 ORDER BY reported_at DESC LIMIT $3
       ) f ORDER BY reported_at`,
      [replica, new Date(sinceMs).toISOString(), limit],
    );
    return rows.map((r) => ({ portfolioId: r.portfolio_id, fillId: r.fill_id, reportedAtMs: r.at_ms }));
  }

  /** Fill ids reported to any replica for `portfolioId` after `sinceMs`: what a replica taking over its lease remembers (gate HA). */
  async idsInPortfolio(
    portfolioId: string,
    sinceMs: number,
    limit: number,
  ): Promise<Array<{ portfolioId: string; fillId: string; reportedAtMs: number }>> {
    const { rows } = await this.pool.query<{ fill_id: string; at_ms: number }>(
      `SELECT fill_id, at_ms FROM (
         SELECT fill_id, reported_at, (extract(epoch FROM reported_at) * 1000)::float8 AS at_ms FROM gate_fills
         WHERE portfolio_id = $1 AND reported_at > $2 ORDER BY reported_at DESC LIMIT $3
       ) f ORDER BY reported_at`,
      [portfolioId, new Date(sinceMs).toISOString(), limit],
    );
    return rows.map((r) => ({ portfolioId, fillId: r.fill_id, reportedAtMs: r.at_ms }));
  }

  /** Writes one batch of fills reported to `replica` and applies the new ones to `positions`. */
  async insert(replica: string, rows: readonly FillRecord[]): Promise<void> {
    await this.pool.query({ name: 'gate-fills-insert', text: FILLS_SQL, values: fillColumns(replica, rows) });
  }

  /**
   * Writes the fills whose portfolio lease `replica` holds with the given fencing token (gate HA);
   * returns the portfolios whose lease was held (fills of the others were not written).
   */
  async insertFenced(replica: string, rows: readonly FillRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>> {
    const { rows: held } = await this.pool.query<{ portfolio_id: string }>({
      name: 'gate-fills-insert-fenced',
      text: FENCED_FILLS_SQL,
      values: [...fillColumns(replica, rows), replica, [...tokens.keys()], [...tokens.values()]],
    });
    return new Set(held.map((r) => r.portfolio_id));
  }
}

/** The batch as one array literal per column (db/arrayLiteral.ts), then the replica. */
function fillColumns(replica: string, rows: readonly FillRecord[]): string[] {
  return [
    textArray(rows.map((r) => r.fillId)),
    textArray(rows.map((r) => r.portfolioId)),
    textArray(rows.map((r) => r.strategy)),
    textArray(rows.map((r) => r.instrument)),
    textArray(rows.map((r) => r.side)),
    textArray(rows.map((r) => r.clientOrderId)),
    numberArray(rows.map((r) => r.quantity)),
    numberArray(rows.map((r) => r.price)),
    boolArray(rows.map((r) => r.orderDone)),
    textArray(rows.map((r) => new Date(r.reportedAtMs).toISOString())),
    replica,
  ];
}
