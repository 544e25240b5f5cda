/**
 * The gate's audit trail (`gate_decisions`): every EvaluateTrade / SizePosition decision, written in
 * batches off the request path, idempotent by decision id (a batch replayed from the gate's spool
 * after a crash is written once).
 *
 * A decision is encoded once, as its `COPY` text line (`decisionLine`), when the gate makes it: the
 * gate's spool keeps that line and the batch goes to Postgres as those lines, in one `COPY`. COPY has no
 * ON CONFLICT, so a batch holding a row already written (a spool replay) fails as a whole with
 * unique_violation and is written again through a temporary table with `ON CONFLICT DO NOTHING`.
 * HA's fenced writes (`insertFenced`) are the same lines behind a lease check, in one transaction and
 * one round trip: `SELECT ballast_gate_fence(…); COPY …` (db/migrations/…_gate_fence.sql).
 */
import pg from 'pg';
import type { Side, TradingState } from '../../risk/kinds';
import { numberArray, textArray } from '../arrayLiteral';
import { copyIn, copyInBehind, copyText, uncopyText } from '../copyText';
import { transactionOn, withClient } from '../pool';

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

/** A decision as one `COPY` text line of gate_decisions (newline included), made by `decisionLine` only. */
export type DecisionLine = string & { readonly __decisionLine: unique symbol };

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
const COLUMN_LIST = COLUMNS.map(([c]) => c).join(', ');

// reasons travel as one comma-joined text per row (unnest cannot take a ragged 2-D array).
const INSERT_SQL = `INSERT INTO gate_decisions (${COLUMN_LIST})
  SELECT ${COLUMNS.map(([c]) => (c === 'reasons' ? "COALESCE(string_to_array(NULLIF(reasons, ''), ','), '{}')" : c)).join(', ')}
  FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) AS t(${COLUMN_LIST})
  ON CONFLICT (decision_id) DO NOTHING`;

const COPY_SQL = `COPY gate_decisions (${COLUMN_LIST}) FROM STDIN`;
/** Where a batch holding already-written rows goes first (dropped at commit), to be inserted ON CONFLICT DO NOTHING. */
const REPLAYED_TABLE_SQL = `CREATE TEMP TABLE gate_decisions_replayed ON COMMIT DROP AS SELECT ${COLUMN_LIST} FROM gate_decisions WITH NO DATA`;
const COPY_REPLAYED_SQL = `COPY gate_decisions_replayed (${COLUMN_LIST}) FROM STDIN`;
const INSERT_REPLAYED_SQL = `INSERT INTO gate_decisions (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM gate_decisions_replayed
  ON CONFLICT (decision_id) DO NOTHING`;
const UNIQUE_VIOLATION = '23505';
/** `ballast_gate_fence` refused the group: a lease of it is no longer the writer's, under its token. */
const FENCE_REFUSED = 'BLF01';

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
 * The group's fence, then its rows, as one simple query (one implicit transaction; literals inlined, a
 * simple query takes no parameters). The fence locks the lease rows FOR SHARE until the COPY commits,
 * so a takeover waits for the group and a write after a takeover finds the new token.
 */
function fencedCopySql(replica: string, tokens: ReadonlyMap<string, number>): string {
  const portfolios = pg.escapeLiteral(textArray([...tokens.keys()]));
  const fencing = pg.escapeLiteral(numberArray([...tokens.values()]));
  return `SELECT ballast_gate_fence(${pg.escapeLiteral(replica)}, ${portfolios}::text[], ${fencing}::int8[]); ${COPY_SQL}`;
}

/**
 * The insert for a group the fence refused, or holding a row already written: only the rows whose
 * portfolio lease `replica` still holds with the row's fencing token, the lease row locked FOR SHARE as
 * by the fence. Returns the portfolios whose rows were accepted.
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

  readonly encode = decisionLine;
  readonly decode = parseDecisionLine;

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

  /** Writes one batch of decisions made by `replica` (encodes them, then `insertLines`). */
  async insert(replica: string, rows: readonly DecisionRecord[]): Promise<void> {
    await this.insertLines(rows.map((r) => decisionLine(replica, r)));
  }

  /** Writes one batch of encoded decisions in one COPY; rows already written (a replayed batch) are skipped. */
  async insertLines(lines: readonly DecisionLine[]): Promise<void> {
    if (lines.length === 0) return;
    const text = lines.join('');
    await withClient(this.pool, (client) =>
      copyIn(client, COPY_SQL, text).catch(async (err: unknown) => {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
        await this.insertReplayed(client, text);
      }),
    );
  }

  /** The batch through a temporary table, skipping rows whose decision id is already written. */
  private insertReplayed(client: pg.PoolClient, text: string): Promise<void> {
    return transactionOn(client, async () => {
      await client.query(REPLAYED_TABLE_SQL);
      await copyIn(client, COPY_REPLAYED_SQL, text);
      await client.query(INSERT_REPLAYED_SQL);
    });
  }

  /**
   * Writes the rows whose portfolio lease `replica` holds with the given fencing token (gate HA);
   * returns the portfolios whose lease was held (rows of the others were not written). The common case,
   * every lease held, is one round trip (`fencedCopySql`); a group the fence refuses, or that holds a row
   * already written, goes again through `insertFencedByPortfolio`, which writes the portfolios still held.
   */
  async insertFenced(replica: string, rows: readonly DecisionRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>> {
    // The fence checks the tokens' portfolios and the COPY writes every row: a row of another portfolio
    // (no caller sends one) takes the statement that writes only what is held.
    if (rows.some((r) => !tokens.has(r.portfolioId))) return this.insertFencedByPortfolio(replica, rows, tokens);
    const text = rows.map((r) => decisionLine(replica, r)).join('');
    try {
      await withClient(this.pool, (client) => copyInBehind(client, fencedCopySql(replica, tokens), text));
      return new Set(tokens.keys());
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== FENCE_REFUSED && code !== UNIQUE_VIOLATION) throw err;
      return this.insertFencedByPortfolio(replica, rows, tokens);
    }
  }

  /**
   * `insertFenced` as one `INSERT … SELECT FROM unnest(…)` that writes only the portfolios still held:
   * `insertFenced`'s way when the fence refuses a group (and the one before it; bench/haFence.bench.ts).
   */
  async insertFencedByPortfolio(
    replica: string,
    rows: readonly DecisionRecord[],
    tokens: ReadonlyMap<string, number>,
  ): Promise<Set<string>> {
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

/** The decision as its gate_decisions row in `COPY` text format, in COLUMNS order, newline included. */
export function decisionLine(replica: string, r: DecisionRecord): DecisionLine {
  const t = copyText;
  const when = new Date(r.decidedAtMs).toISOString();
  return (`${t(r.decisionId)}\t${when}\t${t(replica)}\t${r.rpc}\t${t(r.caller)}\t${t(r.portfolioId)}\t` +
    `${t(r.strategy)}\t${t(r.instrument)}\t${r.side}\t${r.quantity}\t${r.price}\t${t(r.clientOrderId)}\t` +
    `${r.decision}\t${r.approvedQuantity}\t${t(textArray(r.reasons))}\t${t(r.detail)}\t${r.budgetVersion}\t` +
    `${r.tradingState}\t${r.latencyUs}\n`) as DecisionLine;
}

/** The replica and decision `decisionLine` encoded (a quarantined row is kept readable; stand-in stores). */
export function parseDecisionLine(line: DecisionLine): { replica: string; record: DecisionRecord } {
  const c = line.replace(/\n$/, '').split('\t').map(uncopyText);
  if (c.length !== COLUMNS.length) throw new Error(`a decision line has ${c.length} columns, not ${COLUMNS.length}`);
  return {
    replica: c[2],
    record: {
      decisionId: c[0],
      decidedAtMs: Date.parse(c[1]),
      rpc: c[3] as DecidingRpc,
      caller: c[4],
      portfolioId: c[5],
      strategy: c[6],
      instrument: c[7],
      side: c[8] as Side,
      quantity: Number(c[9]),
      price: Number(c[10]),
      clientOrderId: c[11],
      decision: c[12] as DecisionKind,
      approvedQuantity: Number(c[13]),
      reasons: [...c[14].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1')),
      detail: c[15],
      budgetVersion: Number(c[16]),
      tradingState: c[17] as TradingState,
      latencyUs: Number(c[18]),
    },
  };
}
