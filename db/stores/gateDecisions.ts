/**
 * The gate's audit trail (`gate_decisions`): every EvaluateTrade / SizePosition decision, written in
 * batches off the request path with one multi-row `INSERT … SELECT FROM unnest(…)` per batch,
 * idempotent by decision id (a batch replayed from the gate's spool after a crash is written once).
 */
import type pg from 'pg';
import type { Side, TradingState } from '../../risk/kinds';
import { numberArray, textArray } from '../arrayLiteral';

/** The RPCs that decide (the table's CHECK lists the same two). */
export type DecidingRpc = 'EvaluateTrade' | 'SizePosition';
/** What was decided: EvaluateTrade approves or denies, SizePosition sizes. */
export type DecisionKind = 'APPROVE' | 'DENY' | 'SIZE';

export interface DecisionRecord {
  /** Unique per decision (given by the gate, grpc/gate.ts): a replayed row is written once. */
  readonly decisionId: string;
  readonly decidedAtMs: number;
  readonly rpc: DecidingRpc;
  readonly caller: string;
  readonly portfolioId: string;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: Side;
  readonly quantity: number;
  readonly price: number;
  readonly clientOrderId: string;
  readonly decision: DecisionKind;
  readonly approvedQuantity: number;
  /** The gate's reason names (grpc/reasons.ts), in check order. */
  readonly reasons: readonly string[];
  readonly detail: string;
  readonly budgetVersion: number;
  readonly tradingState: TradingState;
  readonly latencyUs: number;
}

const COLUMNS = [
  ['decision_id', 'text'],
  ['decided_at', 'timestamptz'],
  ['replica', 'text'],
  ['rpc', 'text'],
  ['caller', 'text'],
  ['portfolio_id', 'text'],
  ['strategy', 'text'],
  ['instrument', 'text'],
  ['side', 'text'],
  ['quantity', 'float8'],
  ['price', 'float8'],
  ['client_order_id', 'text'],
  ['decision', 'text'],
  ['approved_quantity', 'float8'],
  ['reasons', 'text'],
  ['detail', 'text'],
  ['budget_version', 'int4'],
  ['trading_state', 'text'],
  ['latency_us', 'int4'],
] as const;

// reasons travel as one comma-joined text per row (unnest cannot take a ragged 2-D array).
const INSERT_SQL = `INSERT INTO gate_decisions (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT ${COLUMNS.map(([c]) => (c === 'reasons' ? "COALESCE(string_to_array(NULLIF(reasons, ''), ','), '{}')" : c)).join(', ')}
  FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) AS t(${COLUMNS.map(([c]) => c).join(', ')})
  ON CONFLICT (decision_id) DO NOTHING`;

/** An order a replica approved, with what its fills (reported to any replica) did to it since. */
export interface ApprovedOrder {
  readonly portfolioId: string;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: Side;
  readonly clientOrderId: string;
  readonly approvedQuantity: number;
  readonly price: number;
  readonly decidedAtMs: number;
  /** Units filled so far. */
  readonly filled: number;
  /** A fill or cancel reported the order's end. */
  readonly done: boolean;
  /** The answer's budget version and trading state (a retry after a restart is answered with them). */
  readonly budgetVersion: number;
  readonly tradingState: TradingState;
}

/**
 * The same insert, only for rows whose portfolio lease `replica` still holds with the row's fencing
 * token (gate HA): the lease row is locked FOR SHARE, so a takeover waits for this statement and a
 * write after a takeover finds the new token. Returns the portfolios whose rows were accepted.
 */
const FENCED_INSERT_SQL = `WITH held AS (
    SELECT l.portfolio_id FROM gate_leases l
    JOIN unnest($${COLUMNS.length + 1}::text[], $${COLUMNS.length + 2}::int8[]) AS h(portfolio_id, token)
      ON h.portfolio_id = l.portfolio_id AND h.token = l.fencing_token
    WHERE l.owner = $${COLUMNS.length + 3}
    FOR SHARE OF l
  ), inserted AS (
    ${INSERT_SQL.replace('ON CONFLICT', 'WHERE t.portfolio_id IN (SELECT portfolio_id FROM held)\n  ON CONFLICT')}
  )
  SELECT portfolio_id FROM held`;

const APPROVED_SQL = `
  SELECT d.portfolio_id, d.strategy, d.instrument, d.side, d.client_order_id, d.approved_quantity, d.price,
         d.budget_version, d.trading_state,
         (extract(epoch FROM d.decided_at) * 1000)::float8 AS decided_at_ms,
         COALESCE(f.filled, 0) AS filled, COALESCE(f.done, false) AS done
  FROM (
    SELECT * FROM gate_decisions
    WHERE %SCOPE% AND rpc = 'EvaluateTrade' AND decision = 'APPROVE' AND decided_at > $2
    ORDER BY decided_at DESC, id DESC LIMIT $3
  ) d
  LEFT JOIN LATERAL (
    SELECT sum(quantity) AS filled, bool_or(order_done) AS done FROM gate_fills g
    WHERE g.portfolio_id = d.portfolio_id AND g.client_order_id = d.client_order_id
  ) f ON true
  ORDER BY d.decided_at, d.id`;
const APPROVED_BY_REPLICA_SQL = APPROVED_SQL.replace('%SCOPE%', 'replica = $1');
const APPROVED_IN_PORTFOLIO_SQL = APPROVED_SQL.replace('%SCOPE%', 'portfolio_id = $1');

export class GateDecisionsStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * The orders `replica` approved after `sinceMs` (the newest `limit`), oldest first, each with its
   * filled units and whether it is done: what a restarting gate rebuilds its reservations and
   * duplicate-id memory from.
   */
  async approvedSince(replica: string, sinceMs: number, limit: number): Promise<ApprovedOrder[]> {
    return this.approved(APPROVED_BY_REPLICA_SQL, replica, sinceMs, limit);
  }

  /**
   * The orders any replica approved for `portfolioId` after `sinceMs`, like `approvedSince`: what a
   * replica taking over the portfolio's lease rebuilds its reservations from (gate HA).
   */
  async approvedInPortfolio(portfolioId: string, sinceMs: number, limit: number): Promise<ApprovedOrder[]> {
    return this.approved(APPROVED_IN_PORTFOLIO_SQL, portfolioId, sinceMs, limit);
  }

  private async approved(sql: string, key: string, sinceMs: number, limit: number): Promise<ApprovedOrder[]> {
    const { rows } = await this.pool.query<{
      portfolio_id: string;
      strategy: string;
      instrument: string;
      side: Side;
      client_order_id: string;
      approved_quantity: number;
      price: number;
      decided_at_ms: number;
      filled: number;
      done: boolean;
      budget_version: number;
      trading_state: TradingState;
    }>(sql, [key, new Date(sinceMs).toISOString(), limit]);
    return rows.map((r) => ({
      portfolioId: r.portfolio_id,
      strategy: r.strategy,
      instrument: r.instrument,
      side: r.side,
      clientOrderId: r.client_order_id,
      approvedQuantity: r.approved_quantity,
      price: r.price,
      decidedAtMs: r.decided_at_ms,
      filled: Number(r.filled),
      done: r.done,
      budgetVersion: r.budget_version,
      tradingState: r.trading_state,
    }));
  }

  /** Writes one batch of decisions made by `replica`, in one statement. */
  async insert(replica: string, rows: readonly DecisionRecord[]): Promise<void> {
    await this.pool.query({ name: 'gate-decisions-insert', text: INSERT_SQL, values: columnsOf(replica, rows) });
  }

  /**
   * Writes the rows whose portfolio lease `replica` holds with the given fencing token (gate HA), in
   * one statement; returns the portfolios whose lease was held (rows of the others were not written).
   */
  async insertFenced(replica: string, rows: readonly DecisionRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>> {
    const { rows: held } = await this.pool.query<{ portfolio_id: string }>({
      name: 'gate-decisions-insert-fenced',
      text: FENCED_INSERT_SQL,
      values: [...columnsOf(replica, rows), [...tokens.keys()], [...tokens.values()], replica],
    });
    return new Set(held.map((r) => r.portfolio_id));
  }
}

/** The batch as one array literal per column, in COLUMNS order (db/arrayLiteral.ts). */
function columnsOf(replica: string, rows: readonly DecisionRecord[]): string[] {
  const text = (f: (r: DecisionRecord) => string): string => textArray(rows.map(f));
  const numbers = (f: (r: DecisionRecord) => number): string => numberArray(rows.map(f));
  return [
    text((r) => r.decisionId),
    text((r) => new Date(r.decidedAtMs).toISOString()),
    text(() => replica),
    text((r) => r.rpc),
    text((r) => r.caller),
    text((r) => r.portfolioId),
    text((r) => r.strategy),
    text((r) => r.instrument),
    text((r) => r.side),
    numbers((r) => r.quantity),
    numbers((r) => r.price),
    text((r) => r.clientOrderId),
    text((r) => r.decision),
    numbers((r) => r.approvedQuantity),
    text((r) => r.reasons.join(',')),
    text((r) => r.detail),
    numbers((r) => r.budgetVersion),
    text((r) => r.tradingState),
    numbers((r) => r.latencyUs),
  ];
}
