/**
 * The gate's audit and fill batches reach Postgres exactly as the gate made them: strings that need
 * quoting in an array literal (quotes, backslashes, commas, braces, "NULL", empty, non-ASCII) and
 * numbers at the edges of float8 (db/arrayLiteral.ts builds the unnest parameters).
 */
import type pg from 'pg';
import { type DecisionRecord, GateDecisionsStore } from '../../../db/stores/gateDecisions';
import { type FillRecord, FillsStore } from '../../../db/stores/fills';
import { GateLeaseStore } from '../../../db/stores/gateLeases';
import { PortfolioStore } from '../../../db/stores/portfolios';
import { createPool } from '../../../db/pool';
import { eventually, testEnv, testPool, uniqueId } from '../../support/env';

// Array-literal trouble (quotes, backslashes, commas, braces, NULL) and COPY-text trouble (tabs, line
// breaks, the \N null marker, an escape sequence written literally).
const HOSTILE = [
  'say "hi"',
  'C:\\dir\\',
  'a,b',
  '{x}',
  'NULL',
  '',
  ' sp ',
  'é€😀',
  '\\"',
  'tab\there',
  'two\nlines\r\n',
  '\\N',
  'back\\tslash',
];

let pool: pg.Pool;
beforeAll(() => {
  pool = testPool();
});
afterAll(() => pool.end());

const hostileDecisions = (portfolioId: string, at: number): DecisionRecord[] =>
  HOSTILE.map((s, i) => ({
    decisionId: `${portfolioId}-${i}`,
    decidedAtMs: at + i,
    rpc: 'EvaluateTrade',
    caller: `caller ${s}`,
    portfolioId,
    strategy: `strat${s}`,
    instrument: `inst${s}`,
    side: i % 2 === 0 ? 'BUY' : 'SELL',
    quantity: [1e-300, 1e300, 0.1 + 0.2, 123456.789][i % 4],
    price: [1e-300, 12.5, 1e300, 0.30000000000000004][i % 4],
    clientOrderId: s,
    decision: i % 2 === 0 ? 'APPROVE' : 'DENY',
    approvedQuantity: i % 2 === 0 ? 0.5 : 0,
    reasons: i % 2 === 0 ? [] : ['POSITION_LIMIT', 'PRICE_COLLAR'],
    detail: s,
    budgetVersion: 7,
    tradingState: 'ACTIVE',
    latencyUs: 42 + i,
  }));

/** A portfolio's decisions as Postgres holds them, every column, oldest first. */
const writtenColumns = async (portfolioId: string): Promise<unknown[]> =>
  (
    await pool.query(
      `SELECT decision_id, (extract(epoch FROM decided_at) * 1000)::float8 AS at_ms, replica, caller, strategy, instrument, side,
              quantity, price, client_order_id, decision, approved_quantity, reasons, detail, budget_version, trading_state, latency_us
       FROM gate_decisions WHERE portfolio_id = $1 ORDER BY decided_at`,
      [portfolioId],
    )
  ).rows;

/** What `writtenColumns` must read for these decisions written by `replica`. */
const asWritten = (replica: string, rows: readonly DecisionRecord[]): unknown[] =>
  rows.map((r) => ({
    decision_id: r.decisionId,
    at_ms: r.decidedAtMs,
    replica,
    caller: r.caller,
    strategy: r.strategy,
    instrument: r.instrument,
    side: r.side,
    quantity: r.quantity,
    price: r.price,
    client_order_id: r.clientOrderId,
    decision: r.decision,
    approved_quantity: r.approvedQuantity,
    reasons: r.reasons,
    detail: r.detail,
    budget_version: r.budgetVersion,
    trading_state: r.tradingState,
    latency_us: r.latencyUs,
  }));

test('decisions: every text and number column round-trips', async () => {
  const portfolioId = uniqueId('audit');
  await new PortfolioStore(pool).ensure(portfolioId);
  const rows = hostileDecisions(portfolioId, Date.UTC(2026, 10, 29, 12, 0, 0, 123));
  await new GateDecisionsStore(pool).insert('replica "r\\1"', rows);
  expect(await writtenColumns(portfolioId)).toEqual(asWritten('replica "r\\1"', rows));
});

test('decisions: a batch written again (a replayed spool) adds nothing; one mixing written and new rows adds the new ones once', async () => {
  const portfolioId = uniqueId('replayed');
  await new PortfolioStore(pool).ensure(portfolioId);
  const store = new GateDecisionsStore(pool);
  const rows = hostileDecisions(portfolioId, Date.UTC(2026, 10, 30, 9, 0, 0, 0));
  const lines = rows.map((r) => store.encode('r1', r));
  const stored = async (): Promise<Array<{ decision_id: string; n: number }>> =>
    (
      await pool.query<{ decision_id: string; n: number }>(
        'SELECT decision_id, count(*)::int AS n FROM gate_decisions WHERE portfolio_id = $1 GROUP BY decision_id ORDER BY decision_id',
        [portfolioId],
      )
    ).rows;
  await store.insertLines(lines.slice(0, 4));
  await store.insertLines(lines.slice(0, 4));
  expect(await stored()).toEqual(rows.slice(0, 4).map((r) => ({ decision_id: r.decisionId, n: 1 })));
  await store.insertLines([...lines.slice(2), lines[2]]);
  expect(await stored()).toEqual(
    rows.map((r) => ({ decision_id: r.decisionId, n: 1 })).sort((a, b) => (a.decision_id < b.decision_id ? -1 : 1)),
  );
  // The same client still writes the plain way afterwards (the replay's temporary table went with its commit).
  const next = { ...rows[0], decisionId: `${portfolioId}-next` };
  await store.insert('r1', [next]);
  expect((await stored()).map((r) => r.decision_id)).toContain(next.decisionId);
});

test('decisions: a batch of megabytes refused at its second row fails whole, the connection goes on; one holding a written row is written once', async () => {
  const portfolioId = uniqueId('big');
  await new PortfolioStore(pool).ensure(portfolioId);
  const store = new GateDecisionsStore(pool);
  const at = Date.UTC(2026, 10, 30, 10, 0, 0, 0);
  const row = hostileDecisions(portfolioId, at)[0];
  // 20 000 rows (about 5 MB): the server refuses row 2 long before the client has sent the rest.
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    store.encode('r1', { ...row, decisionId: `${portfolioId}-${i}`, clientOrderId: `${portfolioId}-o${i}`, decidedAtMs: at + i }),
  );
  const count = async (): Promise<number> =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM gate_decisions WHERE portfolio_id = $1', [portfolioId])).rows[0].n;
  await pool.query(
    `ALTER TABLE gate_decisions ADD CONSTRAINT "refuse_${portfolioId}" CHECK (client_order_id <> '${portfolioId}-o1') NOT VALID`,
  );
  try {
    await expect(store.insertLines(lines)).rejects.toMatchObject({ code: '23514' });
    expect(await count()).toBe(0);
  } finally {
    await pool.query(`ALTER TABLE gate_decisions DROP CONSTRAINT "refuse_${portfolioId}"`);
  }
  await store.insertLines(lines.slice(1, 2));
  await store.insertLines(lines);
  expect(await count()).toBe(lines.length);
});

describe('decisions written fenced (gate HA)', () => {
  // A replica name a simple query must quote (the fence's literals are inlined).
  const REPLICA = `gate "a" 'b' \\`;
  const stored = async (portfolioId: string): Promise<string[]> =>
    (
      await pool.query<{ decision_id: string }>('SELECT decision_id FROM gate_decisions WHERE portfolio_id = $1 ORDER BY decision_id', [
        portfolioId,
      ])
    ).rows.map((r) => r.decision_id);
  const takeTwo = async (): Promise<{ a: string; b: string; tokens: Map<string, number> }> => {
    const [a, b] = [uniqueId('fence-a'), uniqueId('fence-b')];
    const leases = new GateLeaseStore(pool);
    const tokens = new Map<string, number>();
    for (const p of [a, b]) {
      await new PortfolioStore(pool).ensure(p);
      tokens.set(p, (await leases.acquire(p, REPLICA, 'localhost:1', 60_000, null))!);
    }
    return { a, b, tokens };
  };
  const at = Date.UTC(2026, 10, 30, 11, 0, 0, 0);

  /** The store, with its fallback watched: the one-round-trip path must be the one that wrote. */
  const watchedStore = (p: pg.Pool = pool): { store: GateDecisionsStore; fallbacks: jest.SpyInstance } => {
    const store = new GateDecisionsStore(p);
    return { store, fallbacks: jest.spyOn(store, 'insertFencedByPortfolio') };
  };

  test('a group whose every lease is held under its token is written whole in one round trip, every column as given', async () => {
    const { a, b, tokens } = await takeTwo();
    const { store, fallbacks } = watchedStore();
    expect(await store.insertFenced(REPLICA, [...hostileDecisions(a, at), ...hostileDecisions(b, at)], tokens)).toEqual(new Set([a, b]));
    expect(fallbacks).not.toHaveBeenCalled();
    for (const p of [a, b]) expect(await writtenColumns(p)).toEqual(asWritten(REPLICA, hostileDecisions(p, at)));
  });

  test('after a takeover of one portfolio, its rows are refused and the other portfolio of the group is still written', async () => {
    const { a, b, tokens } = await takeTwo();
    // Another replica takes b over once the lease has lapsed: b's token moves on.
    await pool.query("UPDATE gate_leases SET expires_at = now() - interval '1 second' WHERE portfolio_id = $1", [b]);
    expect(await new GateLeaseStore(pool).acquire(b, 'gate-other', 'localhost:2', 60_000, null)).toBe(tokens.get(b)! + 1);
    // b's rows make the group about a megabyte, more than a socket buffer: Postgres drops them as they arrive.
    const many = Array.from({ length: 5_000 }, (_, i) => ({ ...hostileDecisions(b, at)[0], decisionId: `${b}-many-${i}` }));
    const rows = [...hostileDecisions(a, at), ...hostileDecisions(b, at), ...many];
    // One connection: the refused group's rows, sent behind the fence, must not linger on it.
    const single = createPool(testEnv().databaseUrl, 1);
    try {
      const { store, fallbacks } = watchedStore(single);
      expect(await store.insertFenced(REPLICA, rows, tokens)).toEqual(new Set([a]));
      expect(fallbacks).toHaveBeenCalledTimes(1);
      expect(await stored(a)).toHaveLength(HOSTILE.length);
      expect(await stored(b)).toEqual([]);
      // The same connection goes on: a's next group is written whole.
      const next = hostileDecisions(a, at + 1_000).map((r) => ({ ...r, decisionId: `${r.decisionId}-next` }));
      expect(await store.insertFenced(REPLICA, next, new Map([[a, tokens.get(a)!]]))).toEqual(new Set([a]));
      expect(fallbacks).toHaveBeenCalledTimes(1);
      expect(await stored(a)).toHaveLength(2 * HOSTILE.length);
    } finally {
      await single.end();
    }
  });

  test('a group holding a row already written writes the rest once', async () => {
    const { a, tokens } = await takeTwo();
    const rows = hostileDecisions(a, at);
    const { store, fallbacks } = watchedStore();
    const only = new Map([[a, tokens.get(a)!]]);
    await store.insertFenced(REPLICA, rows.slice(0, 3), only);
    expect(fallbacks).not.toHaveBeenCalled();
    expect(await store.insertFenced(REPLICA, rows, only)).toEqual(new Set([a]));
    expect(fallbacks).toHaveBeenCalledTimes(1);
    expect(await stored(a)).toEqual(rows.map((r) => r.decisionId).sort());
  });

  test('a row of a portfolio the tokens do not name is not written; the rest of the group is', async () => {
    const { a, b, tokens } = await takeTwo();
    const { store } = watchedStore();
    const onlyA = new Map([[a, tokens.get(a)!]]);
    expect(await store.insertFenced(REPLICA, [...hostileDecisions(a, at), hostileDecisions(b, at)[0]], onlyA)).toEqual(new Set([a]));
    expect(await stored(a)).toHaveLength(HOSTILE.length);
    expect(await stored(b)).toEqual([]);
  });

  test('a group that meets a takeover in progress waits for it, then is refused', async () => {
    const { a, tokens } = await takeTwo();
    const onlyA = new Map([[a, tokens.get(a)!]]);
    // The takeover: another replica's transaction holds a's lease row and moves its token on.
    const takeover = await pool.connect();
    try {
      await takeover.query('BEGIN');
      await takeover.query('SELECT 1 FROM gate_leases WHERE portfolio_id = $1 FOR UPDATE', [a]);
      const { store, fallbacks } = watchedStore();
      const write = store.insertFenced(REPLICA, hostileDecisions(a, at), onlyA);
      // The group's fence waits for the lease row.
      await eventually(
        async () => {
          const { rows } = await pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT ballast_gate_fence(%'",
          );
          return rows[0].n === 1 || undefined;
        },
        10_000,
        "the group's fence to wait for the lease row",
      );
      await takeover.query("UPDATE gate_leases SET owner = 'gate-other', fencing_token = fencing_token + 1 WHERE portfolio_id = $1", [a]);
      await takeover.query('COMMIT');
      expect(await write).toEqual(new Set());
      expect(fallbacks).toHaveBeenCalledTimes(1);
      expect(await stored(a)).toEqual([]);
    } finally {
      takeover.release();
    }
  });
});

test('decisions: a line decodes to the replica and decision it encodes', () => {
  const store = new GateDecisionsStore(pool);
  for (const r of hostileDecisions('p\t1', Date.UTC(2026, 10, 30, 9, 0, 0, 7)))
    expect(store.decode(store.encode('replica\t"r\\1"', r))).toEqual({ replica: 'replica\t"r\\1"', record: r });
});

test('fills: every text, number and boolean column round-trips', async () => {
  const portfolioId = uniqueId('fills');
  await new PortfolioStore(pool).ensure(portfolioId);
  const at = Date.UTC(2026, 10, 29, 12, 0, 0, 456);
  const rows: FillRecord[] = HOSTILE.map((s, i) => ({
    portfolioId,
    strategy: 'trend',
    instrument: 'AAPL',
    side: 'BUY',
    clientOrderId: s,
    fillId: `${portfolioId}-${i}-${s}`,
    quantity: [1e-9, 2.5, 0.1 + 0.2][i % 3],
    price: [100, 1e-6, 1e6][i % 3],
    orderDone: i % 2 === 0,
    reportedAtMs: at + i,
  }));
  await new FillsStore(pool).insert('r1', rows);
  const { rows: stored } = await pool.query(
    `SELECT fill_id, client_order_id, quantity, price, order_done, (extract(epoch FROM reported_at) * 1000)::float8 AS at_ms
     FROM gate_fills WHERE portfolio_id = $1 ORDER BY reported_at`,
    [portfolioId],
  );
  expect(stored).toEqual(
    rows.map((r) => ({
      fill_id: r.fillId,
      client_order_id: r.clientOrderId,
      quantity: r.quantity,
      price: r.price,
      order_done: r.orderDone,
      at_ms: r.reportedAtMs,
    })),
  );
});
