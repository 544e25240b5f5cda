/**
 * The gate's audit trail (`gate_decisions`): every EvaluateTrade / SizePosition decision, written in
 * batches off the request path with one multi-row `INSERT … SELECT FROM unnest(…)` per batch,
 * idempotent by decision id (a batch replayed from the gate's spool after a crash is written once).
 */
import type pg from 'pg';
import type { Side, TradingState } from '../../risk/kinds';

/** The RPCs that decide (the table's CHECK lists the same two). */
export type DecidingRpc = 'EvaluateTrade' | 'SizePosition';
/** What was decided: EvaluateTrade approves or denies, SizePosition sizes. */
export type DecisionKind = 'APPROVE' | 'DENY' | 'SIZE';

export interface DecisionRecord {
  /** Unique per decision (a UUID the gate gives it): a replayed row is written once. */
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

export class GateDecisionsStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Writes one batch of decisions made by `replica`, in one statement. */
  async insert(replica: string, rows: readonly DecisionRecord[]): Promise<void> {
    const cols: unknown[][] = COLUMNS.map(() => new Array<unknown>(rows.length));
    rows.forEach((r, i) => {
      const values = [
        r.decisionId,
        new Date(r.decidedAtMs).toISOString(),
        replica,
        r.rpc,
        r.caller,
        r.portfolioId,
        r.strategy,
        r.instrument,
        r.side,
        r.quantity,
        r.price,
        r.clientOrderId,
        r.decision,
        r.approvedQuantity,
        r.reasons.join(','),
        r.detail,
        r.budgetVersion,
        r.tradingState,
        r.latencyUs,
      ];
      values.forEach((v, c) => (cols[c][i] = v));
    });
    await this.pool.query(INSERT_SQL, cols);
  }
}
