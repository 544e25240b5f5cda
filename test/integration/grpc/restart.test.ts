/**
 * Nothing the gate acknowledged is lost, and a restart remembers working orders (issue 10 §3, §4):
 * the real gate process (`ballast gate`), SIGKILLed, against the real Postgres reached through a TCP
 * proxy that simulates the outage (the shared server is never stopped).
 */
import type pg from 'pg';
import {
  Decision,
  type EvaluateTradeResponse,
  ReasonCode,
  type ReportFillRequest,
  type ReportFillResponse,
  Side,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { type GateProcess, requireFreshBuild, startGateProcess } from '../../support/gateProcess';
import { HealthClient } from './healthClient';
import { startTcpProxy, type TcpProxy, viaProxy } from '../../support/tcpProxy';
import { buy, call, client, type Client, commitFixture, databaseUrl, eventually, newDataDir, newPortfolioId, withPool } from './helpers';

jest.setTimeout(600_000);
beforeAll(() => requireFreshBuild(['grpc/server.ts', 'grpc/spool.ts', 'grpc/gate.ts', 'grpc/handlers.ts', 'risk/pretrade/checks.ts']));

const running = new Set<GateProcess>();
afterEach(async () => {
  await Promise.all([...running].map((g) => g.kill()));
  running.clear();
});

async function startOn(db: string, dataDir: string, extra: string[] = []): Promise<{ gate: GateProcess; client: Client }> {
  const gate = await startGateProcess(['--database-url', db, '--data-dir', dataDir, ...extra]);
  running.add(gate);
  return { gate, client: client(gate.oms.target, gate.oms.credentials, gate.oms.options) };
}

async function crash(g: { gate: GateProcess; client: Client }): Promise<void> {
  await g.gate.kill();
  running.delete(g.gate);
  g.client.close();
}

const fillOf = (portfolioId: string, r: Partial<ReportFillRequest>): ReportFillRequest => ({
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_BUY,
  clientOrderId: '',
  fillId: '',
  quantity: 0,
  price: 100,
  orderDone: false,
  ...r,
});

test('a restarted gate denies an order that would use headroom an approved working order holds', async () => {
  const pid = newPortfolioId('restart');
  await withPool((_p, store) => commitFixture(store, pid));
  const dataDir = newDataDir();
  const first = await startOn(databaseUrl(), dataDir);
  // Two approved orders of 1 000 AAPL at 100 hold the whole 200k position limit; one is 40% filled.
  for (const id of ['w1', 'w2']) {
    const r = await call<unknown, EvaluateTradeResponse>(first.client, 'evaluateTrade', {
      order: buy(pid, { quantity: 1_000, clientOrderId: `${pid}-${id}` }),
    });
    expect(r.decision).toBe(Decision.DECISION_APPROVE);
  }
  await call<unknown, ReportFillResponse>(
    first.client,
    'reportFill',
    fillOf(pid, { clientOrderId: `${pid}-w1`, fillId: `${pid}-f1`, quantity: 400 }),
  );
  await crash(first);

  const second = await startOn(databaseUrl(), dataDir);
  const more = await call<unknown, EvaluateTradeResponse>(second.client, 'evaluateTrade', { order: buy(pid, { quantity: 10 }) });
  expect(more).toMatchObject({ decision: Decision.DECISION_DENY, reasons: [ReasonCode.REASON_CODE_POSITION_LIMIT] });
  const again = await call<unknown, EvaluateTradeResponse>(second.client, 'evaluateTrade', {
    order: buy(pid, { quantity: 10, clientOrderId: `${pid}-w1` }),
  });
  expect(again.reasons).toContain(ReasonCode.REASON_CODE_CLIENT_ORDER_ID_REUSED);
  const refill = await call<unknown, ReportFillResponse>(
    second.client,
    'reportFill',
    fillOf(pid, { clientOrderId: `${pid}-w1`, fillId: `${pid}-f1`, quantity: 400 }),
  );
  expect(refill).toEqual({ duplicate: true, positionQuantity: 400 });
  // The OMS cancels w2: its 1 000 units are released, and the same order now passes.
  await call<unknown, ReportFillResponse>(
    second.client,
    'reportFill',
    fillOf(pid, { clientOrderId: `${pid}-w2`, fillId: `${pid}-c2`, orderDone: true }),
  );
  const after = await call<unknown, EvaluateTradeResponse>(second.client, 'evaluateTrade', { order: buy(pid, { quantity: 10 }) });
  expect(after.decision).toBe(Decision.DECISION_APPROVE);
  second.client.close();
});

test('a working-order cap answers RESERVATION_CAP', async () => {
  const pid = newPortfolioId('cap');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await startOn(databaseUrl(), newDataDir(), ['--max-working-orders', '2']);
  const answers = [];
  for (let i = 0; i < 3; i++)
    answers.push(await call<unknown, EvaluateTradeResponse>(g.client, 'evaluateTrade', { order: buy(pid, { quantity: 1 }) }));
  expect(answers.map((a) => a.reasons)).toEqual([[], [], [ReasonCode.REASON_CODE_RESERVATION_CAP]]);
  expect(answers[2].detail).toBe('portfolio holds 2 working orders, the cap: report fills or cancels to release some');
  g.client.close();
});

test('through a Postgres outage the gate keeps serving from its spool and writes everything once Postgres returns', async () => {
  const pid = newPortfolioId('outage');
  await withPool((_p, store) => commitFixture(store, pid));
  const pgUrl = new URL(databaseUrl());
  const proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const g = await startOn(viaProxy(databaseUrl(), proxy), newDataDir());
  const health = new HealthClient(g.gate.oms.target, g.gate.oms.credentials, g.gate.oms.options);
  try {
    proxy.cut();
    const orders = Array.from({ length: 20 }, (_, i) => `${pid}-o${i}`);
    for (const id of orders) {
      await call<unknown, EvaluateTradeResponse>(g.client, 'evaluateTrade', { order: buy(pid, { quantity: 1, clientOrderId: id }) });
      await call<unknown, ReportFillResponse>(
        g.client,
        'reportFill',
        fillOf(pid, { clientOrderId: id, fillId: `${id}-f`, quantity: 1, orderDone: true }),
      );
    }
    // Acknowledged while Postgres is unreachable: the spool holds them, so the gate still serves.
    expect(await health.check('ballast.gate.v1.GateService')).toBe('SERVING');
    await new Promise((r) => setTimeout(r, 300));
    const during = await withPool((pool) => pool.query('SELECT count(*)::int AS n FROM gate_fills WHERE portfolio_id = $1', [pid]));
    expect(during.rows[0].n).toBe(0);
    proxy.restore();
    await eventually(
      () =>
        withPool(async (pool) => {
          // Both writers retry on their own backoff after the outage: wait for the decisions and the fills.
          const { rows } = await pool.query<{ fills: number; decisions: number }>(
            `SELECT (SELECT count(*)::int FROM gate_fills WHERE portfolio_id = $1) AS fills,
                    (SELECT count(*)::int FROM gate_decisions WHERE portfolio_id = $1) AS decisions`,
            [pid],
          );
          return rows[0].fills === orders.length && rows[0].decisions >= orders.length ? true : undefined;
        }),
      30_000,
    );
    await expectAllStored(
      pid,
      orders,
      orders.map((id) => ({ id: `${id}-f`, signed: 1 })),
    );
  } finally {
    health.close();
    g.client.close();
    await proxy.close();
  }
});

/**
 * 20 trials, each: load (EvaluateTrade + ReportFill, 8 in flight) → Postgres cut at a random instant
 * → SIGKILL at a random instant of the outage → Postgres restored → the gate restarted on the same
 * data dir (its start replays the spool). Then every acknowledged decision and fill is in Postgres
 * exactly once, and positions hold every stored fill once.
 */
test('SIGKILL at random instants during a Postgres outage under load: every acknowledged fill and decision is in Postgres once', async () => {
  const pid = newPortfolioId('crash');
  await withPool((_p, store) => commitFixture(store, pid));
  const pgUrl = new URL(databaseUrl());
  const proxy: TcpProxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const db = viaProxy(databaseUrl(), proxy);
  const dataDir = newDataDir();
  const ackedOrders: string[] = [];
  const ackedFills: Array<{ id: string; signed: number }> = [];
  const trials: Array<{ acked: number; upMs: number; outageMs: number }> = [];
  let g = await startOn(db, dataDir);
  try {
    for (let trial = 0; trial < 20; trial++) {
      const upMs = 50 + Math.random() * 250;
      const outageMs = 20 + Math.random() * 400;
      let stop = false;
      let n = 0;
      const before = ackedOrders.length + ackedFills.length;
      const worker = async (w: number): Promise<void> => {
        const c = g.client;
        while (!stop) {
          const k = `${pid}-t${trial}-w${w}-${n++}`;
          try {
            if (n % 2 === 0) {
              await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid, { quantity: 1, clientOrderId: k }) }, 2_000);
              ackedOrders.push(k);
            } else {
              const side = n % 4 === 1 ? Side.SIDE_BUY : Side.SIDE_SELL;
              await call<unknown, ReportFillResponse>(
                c,
                'reportFill',
                fillOf(pid, { side, clientOrderId: k, fillId: k, quantity: 1, orderDone: true }),
                2_000,
              );
              ackedFills.push({ id: k, signed: side === Side.SIDE_BUY ? 1 : -1 });
            }
          } catch {
            if (!stop) await new Promise((r) => setTimeout(r, 5));
          }
        }
      };
      const load = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));
      await new Promise((r) => setTimeout(r, upMs));
      proxy.cut();
      await new Promise((r) => setTimeout(r, outageMs));
      await g.gate.kill();
      stop = true;
      await load;
      running.delete(g.gate);
      g.client.close();
      trials.push({ acked: ackedOrders.length + ackedFills.length - before, upMs: Math.round(upMs), outageMs: Math.round(outageMs) });
      proxy.restore();
      g = await startOn(db, dataDir); // replays the spool before it listens
      await expectAllStored(pid, ackedOrders, ackedFills);
    }
    // The trials prove nothing unless the gate acknowledged work before it was killed.
    expect(ackedOrders.length).toBeGreaterThan(0);
    expect(ackedFills.length).toBeGreaterThan(0);
  } finally {
    g.client.close();
    await proxy.close().catch(() => undefined);
    console.log(
      `crash trials: ${JSON.stringify(trials)}; acknowledged ${ackedOrders.length} decisions and ${ackedFills.length} fills, all stored once`,
    );
  }
});

async function expectAllStored(
  pid: string,
  orders: readonly string[],
  fills: ReadonlyArray<{ id: string; signed: number }>,
): Promise<void> {
  await withPool(async (pool: pg.Pool) => {
    const decisions = await pool.query<{ client_order_id: string; n: string }>(
      `SELECT client_order_id, count(*) AS n FROM gate_decisions WHERE portfolio_id = $1 GROUP BY client_order_id`,
      [pid],
    );
    const counts = new Map(decisions.rows.map((r) => [r.client_order_id, Number(r.n)]));
    expect(orders.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const stored = await pool.query<{ fill_id: string; signed: number }>(
      `SELECT fill_id, CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END AS signed FROM gate_fills WHERE portfolio_id = $1`,
      [pid],
    );
    const ids = new Set(stored.rows.map((r) => r.fill_id));
    expect(fills.filter((f) => !ids.has(f.id)).map((f) => f.id)).toEqual([]);
    const position = await pool.query<{ quantity: number }>('SELECT quantity FROM positions WHERE portfolio_id = $1', [pid]);
    const sum = stored.rows.reduce((s, r) => s + r.signed, 0);
    expect(position.rows[0]?.quantity ?? 0).toBeCloseTo(sum, 9);
  });
}
