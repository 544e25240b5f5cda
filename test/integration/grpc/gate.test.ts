/**
 * The gate against a real Postgres: serving from the committed budget, NOTIFY-driven swaps seen by two
 * replicas, fail-closed behaviour, trading-state control, fills → positions → reconciliation, audit rows
 * that match the decisions, health and reflection.
 */
import type * as grpc from '@grpc/grpc-js';
import { HealthClient } from './healthClient';
import type { RunningGate } from '../../../grpc/server';
import {
  Decision,
  type EvaluateTradeResponse,
  type GetCurrentBudgetResponse,
  type GetRecommendationsResponse,
  type GetUtilizationResponse,
  ReasonCode,
  type ReportFillResponse,
  Side,
  type SizePositionResponse,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { buy, call, client, commitFixture, eventually, gate, newPortfolioId, withPool } from './helpers';

const running: RunningGate[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(running.splice(0).map((g) => g.close()));
});
async function started(options: Parameters<typeof gate>[0] = {}): Promise<RunningGate> {
  const g = await gate(options);
  running.push(g);
  return g;
}
function connect(address: string) {
  const c = client(address);
  clients.push(c);
  return c;
}

test('answers from the committed budget, fails closed without one, and sizes to the binding limit', async () => {
  const pid = newPortfolioId('serve');
  const empty = newPortfolioId('empty');
  await withPool(async (_pool, store) => {
    await commitFixture(store, pid);
    await store.ensurePortfolio(empty);
  });
  const g = await started();
  const c = connect(g.address);
  const ok = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid) });
  expect(ok).toMatchObject({ decision: Decision.DECISION_APPROVE, reasons: [], budgetVersion: 1 });
  const none = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(empty) });
  expect(none).toMatchObject({ decision: Decision.DECISION_DENY, reasons: [ReasonCode.REASON_CODE_NO_BUDGET] });
  const ghost = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy('ghost-portfolio') });
  expect(ghost.reasons).toEqual([ReasonCode.REASON_CODE_UNKNOWN_PORTFOLIO]);
  const sized = await call<unknown, SizePositionResponse>(c, 'sizePosition', { order: buy(pid, { quantity: 5_000, clientOrderId: '' }) });
  // 100 already reserved; max order 100k / 100 = 1000 units binds before the 200k position limit.
  expect(sized).toMatchObject({ approvedQuantity: 1000, bindingLimit: ReasonCode.REASON_CODE_MAX_ORDER_NOTIONAL });
});

test('two replicas see a newly committed version within a bound (NOTIFY, not the poll)', async () => {
  const pid = newPortfolioId('replicas');
  await withPool((_p, store) => commitFixture(store, pid));
  const [a, b] = [await started({ pollIntervalMs: 600_000 }), await started({ pollIntervalMs: 600_000 })];
  const [ca, cb] = [connect(a.address), connect(b.address)];
  const version = await withPool((_p, store) =>
    commitFixture(store, pid, (x) => ({ ...x, limits: { ...x.limits, maxOrderNotional: 50_000 as never } })),
  );
  const committedAt = Date.now();
  const seen = await Promise.all(
    [ca, cb].map((c) =>
      eventually(async () => {
        const r = await call<unknown, GetCurrentBudgetResponse>(c, 'getCurrentBudget', { portfolioId: pid });
        return r.budgetVersion === version ? Date.now() - committedAt : undefined;
      }, 2_000),
    ),
  );
  expect(version).toBe(2);
  for (const ms of seen) expect(ms).toBeLessThan(500);
  // Same request, same answer from both replicas, using the new limit (50k / 100 = 500 units).
  const answers = await Promise.all(
    [ca, cb].map((c) => call<unknown, SizePositionResponse>(c, 'sizePosition', { order: buy(pid, { quantity: 900, clientOrderId: '' }) })),
  );
  expect(answers[0]).toEqual(answers[1]);
  expect(answers[0]).toMatchObject({ approvedQuantity: 500, budgetVersion: 2 });
});

test('an operator halting the portfolio is enforced after NOTIFY', async () => {
  const pid = newPortfolioId('halt');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await started({ pollIntervalMs: 600_000 });
  const c = connect(g.address);
  await withPool((pool) => pool.query("UPDATE portfolios SET trading_state = 'HALTED' WHERE id = $1", [pid]));
  const denied = await eventually(async () => {
    const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid) });
    return r.decision === Decision.DECISION_DENY ? r : undefined;
  }, 2_000);
  expect(denied.reasons).toEqual([ReasonCode.REASON_CODE_TRADING_HALTED]);
});

test('a limit override is picked up on NOTIFY and applied until it is revoked', async () => {
  const pid = newPortfolioId('override');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await started({ pollIntervalMs: 600_000 });
  const c = connect(g.address);
  const size = () => call<unknown, SizePositionResponse>(c, 'sizePosition', { order: buy(pid, { quantity: 5_000, clientOrderId: '' }) });
  expect((await size()).approvedQuantity).toBe(1000);
  await withPool((pool) =>
    pool.query(
      `INSERT INTO limit_overrides (idempotency_key, portfolio_id, field, value, reason, approver, expires_at)
     VALUES ($1, $2, 'maxOrderNotional', 10000, 'test: tighter order size', 'risk-ops', now() + interval '1 hour')`,
      [`${pid}-ov`, pid],
    ),
  );
  const tightened = await eventually(async () => {
    const r = await size();
    return r.approvedQuantity === 100 ? r : undefined;
  }, 2_000);
  expect(tightened.bindingLimit).toBe(ReasonCode.REASON_CODE_MAX_ORDER_NOTIONAL);
  await withPool((pool) => pool.query('UPDATE limit_overrides SET revoked_at = now() WHERE idempotency_key = $1', [`${pid}-ov`]));
  await eventually(async () => ((await size()).approvedQuantity === 1000 ? true : undefined), 2_000);
});

test('GetUtilization reports the limit in force: an override replaces the budget limit at its scope', async () => {
  const pid = newPortfolioId('util-override');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await started({ pollIntervalMs: 600_000 });
  const c = connect(g.address);
  const utilization = () => call<unknown, GetUtilizationResponse>(c, 'getUtilization', { portfolioId: pid });
  expect((await utilization()).gross?.limitNotional).toBe(600_000);
  await withPool((pool) =>
    pool.query(
      `INSERT INTO limit_overrides (idempotency_key, portfolio_id, field, value, strategy, asset, reason, approver, expires_at)
       VALUES ($1 || '-g', $2, 'maxGrossNotional', 700000, NULL, NULL, 'test', 'risk-ops', now() + interval '1 hour'),
              ($1 || '-s', $2, 'maxGrossNotional', 450000, 'trend', NULL, 'test', 'risk-ops', now() + interval '1 hour'),
              ($1 || '-p', $2, 'maxPositionNotional', 210000, 'trend', 'AAPL', 'test', 'risk-ops', now() + interval '1 hour')`,
      [pid, pid],
    ),
  );
  const u = await eventually(async () => {
    const r = await utilization();
    return r.gross?.limitNotional === 700_000 ? r : undefined;
  }, 2_000);
  expect(u.net?.limitNotional).toBe(450_000);
  expect(u.strategies.map((l) => [l.strategy, l.limitNotional])).toEqual([
    ['trend', 450_000],
    ['carry', 180_000],
  ]);
  expect(u.assets.find((l) => l.instrument === 'AAPL')?.limitNotional).toBe(210_000);
  expect(u.assets.find((l) => l.instrument === 'MSFT')?.limitNotional).toBe(250_000);
});

test('fills update positions in Postgres and another replica picks them up on reconciliation', async () => {
  const pid = newPortfolioId('fills');
  await withPool((_p, store) => commitFixture(store, pid));
  const a = await started();
  const b = await started({ reconcileIntervalMs: 200 });
  const ca = connect(a.address);
  const fill = {
    portfolioId: pid,
    strategy: 'trend',
    instrument: 'AAPL',
    side: Side.SIDE_BUY,
    clientOrderId: 'o1',
    fillId: `${pid}-f1`,
    quantity: 1500,
    price: 100,
    orderDone: true,
  };
  expect(await call<unknown, ReportFillResponse>(ca, 'reportFill', fill)).toEqual({ duplicate: false, positionQuantity: 1500 });
  expect(await call<unknown, ReportFillResponse>(ca, 'reportFill', fill)).toEqual({ duplicate: true, positionQuantity: 1500 });
  const util = await eventually(async () => {
    const u = await call<unknown, GetUtilizationResponse>(connect(b.address), 'getUtilization', { portfolioId: pid });
    return u.gross!.usedNotional > 0 ? u : undefined;
  }, 3_000);
  expect(util.gross!.usedNotional).toBeCloseTo(150_000, 6);
  expect(util.assets.find((x) => x.instrument === 'AAPL')!.utilization).toBeCloseTo(0.75, 9);
  const rows = await withPool((pool) => pool.query('SELECT quantity FROM positions WHERE portfolio_id = $1', [pid]));
  expect(rows.rows).toEqual([{ quantity: 1500 }]);
  // Replica b now denies what would breach the 200k position limit (150k held + 60k).
  const r = await call<unknown, EvaluateTradeResponse>(connect(b.address), 'evaluateTrade', { order: buy(pid, { quantity: 600 }) });
  expect(r.reasons).toEqual([ReasonCode.REASON_CODE_POSITION_LIMIT]);
});

test('audit rows match the decisions made, flushed on graceful shutdown', async () => {
  const pid = newPortfolioId('audit');
  await withPool((_p, store) => commitFixture(store, pid));
  const replicaId = `audit-${pid}`;
  const g = await gate({ replicaId, auditFlushIntervalMs: 60_000 });
  const c = connect(g.address);
  const made: Array<{ id: string; decision: string; reasons: string[] }> = [];
  for (let i = 0; i < 40; i++) {
    const o = buy(pid, { quantity: i % 4 === 0 ? 5_000 : 10, clientOrderId: `a-${i}` });
    const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: o });
    made.push({
      id: o.clientOrderId,
      decision: r.decision === Decision.DECISION_APPROVE ? 'APPROVE' : 'DENY',
      reasons: r.reasons.map((x) => ReasonCode[x].replace('REASON_CODE_', '')),
    });
  }
  // Flush interval is a minute: nothing is written until the graceful close.
  await g.close();
  const rows = await withPool((pool) =>
    pool.query<{ client_order_id: string; decision: string; reasons: string[]; budget_version: number; latency_us: number }>(
      'SELECT client_order_id, decision, reasons, budget_version, latency_us FROM gate_decisions WHERE replica = $1 ORDER BY id',
      [replicaId],
    ),
  );
  expect(rows.rows.map((r) => ({ id: r.client_order_id, decision: r.decision, reasons: r.reasons }))).toEqual(made);
  expect(made.filter((m) => m.decision === 'DENY').length).toBe(10);
  expect(rows.rows.every((r) => r.budget_version === 1 && r.latency_us >= 0)).toBe(true);
});

test("GetRecommendations reads the loop's recommendations newest first, capped by the limit", async () => {
  const pid = newPortfolioId('recs');
  await withPool(async (pool, store) => {
    await commitFixture(store, pid);
    for (const [i, status] of ['COMMITTED', 'PENDING', 'REJECTED'].entries()) {
      await pool.query(
        `INSERT INTO recommendations (id, portfolio_id, status, adds_risk, reason, triggers, summary, budget, created_at, committed_version)
         VALUES ($1, $2, $3, $4, $5, '[]', $6, '{}', $7, $8)`,
        [
          `${pid}-r${i}`,
          pid,
          status,
          i === 1,
          `reason ${i}`,
          JSON.stringify({ n: i }),
          new Date(Date.UTC(2026, 0, 1 + i)),
          i === 0 ? 1 : null,
        ],
      );
    }
  });
  const c = connect((await started()).address);
  const r = await call<unknown, GetRecommendationsResponse>(c, 'getRecommendations', { portfolioId: pid, limit: 2 });
  expect(r.recommendations.map((x) => [x.id, x.kind, x.summary, x.createdAt])).toEqual([
    [`${pid}-r2`, 'REJECTED', 'REJECTED: reason 2', '2026-01-03T00:00:00.000Z'],
    [`${pid}-r1`, 'PENDING', 'PENDING (adds risk): reason 1', '2026-01-02T00:00:00.000Z'],
  ]);
  expect(JSON.parse(r.recommendations[1].payloadJson)).toEqual({ summary: { n: 1 }, detail: null, triggers: [], committedVersion: null });
});

test('standard health checking and server reflection', async () => {
  const g = await started();
  const health = new HealthClient(g.address);
  try {
    expect(await health.check('ballast.gate.v1.GateService')).toBe('SERVING');
    const services = await health.listServices();
    expect(services).toEqual(expect.arrayContaining(['ballast.gate.v1.GateService', 'grpc.health.v1.Health']));
    // Reflected field names must be the proto names, or JSON tools (buf curl, grpcurl, ghz) reject requests.
    const files = Buffer.concat(await health.fileContaining('ballast.gate.v1.GateService')).toString('latin1');
    expect(files).toContain('client_order_id');
    expect(files).not.toContain('clientOrderId');
  } finally {
    health.close();
  }
});
