/**
 * Scoped controls through the real gate and Postgres: a strategy's and an instrument's trading state
 * set through the store the loop's Update writes with (NOTIFY, not the poll), enforced and resumed;
 * the message throttle per caller and per portfolio over gRPC, audited with its own reason; the
 * warning level answering APPROVE with the limit's figures, one `limit-warning` alert row and one
 * metric increment per crossing.
 */
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { TradingStateStore } from '../../../db/stores/tradingStates';
import type { TradingStateRequest } from '../../../risk/budget';
import { Decision, type EvaluateTradeResponse, LimitScope, ReasonCode, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import { gateMetrics } from '../../../grpc/metrics';
import type { RunningGate } from '../../../grpc/server';
import { buy, call, client, commitFixture, eventually, gate, newPortfolioId, withPool } from './helpers';

const running: RunningGate[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(running.splice(0).map((g) => g.close()));
});
async function started(options: Parameters<typeof gate>[0] = {}): Promise<RunningGate> {
  const g = await gate({ pollIntervalMs: 600_000, ...options });
  running.push(g);
  return g;
}
/** Each client on its own connection (grpc-js shares one between clients of a target by default). */
function connect(address: string) {
  const c = client(address, undefined, { 'grpc.use_local_subchannel_pool': 1 });
  clients.push(c);
  return c;
}
const evaluate = (c: ReturnType<typeof client>, order: ReturnType<typeof buy>) =>
  call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order });
const setState = (pid: string, request: TradingStateRequest) =>
  withPool((pool) => new TradingStateStore(pool).set(pid, request, `test:${Math.random()}`));

test('a HALTED strategy and a REDUCING instrument are enforced after NOTIFY, each naming its scope, and resumed', async () => {
  const pid = newPortfolioId('scopes');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await started();
  const c = connect(g.address);
  const carry = buy(pid, { strategy: 'carry', instrument: 'XOM', price: 50 });

  await setState(pid, { state: 'HALTED', scope: { kind: 'strategy', name: 'trend' }, operator: 'olga', reason: 'bad fills' });
  const halted = await eventually(async () => {
    const r = await evaluate(c, buy(pid));
    return r.decision === Decision.DECISION_DENY ? r : undefined;
  }, 3_000);
  expect(halted.reasons).toEqual([ReasonCode.REASON_CODE_TRADING_HALTED]);
  expect(halted.explanations[0]).toMatchObject({ scope: LimitScope.LIMIT_SCOPE_STRATEGY, strategy: 'trend' });
  expect(halted.detail).toBe('strategy "trend" trading is halted');
  expect((await evaluate(c, { ...carry, clientOrderId: 'carry-1' })).decision).toBe(Decision.DECISION_APPROVE);

  await setState(pid, { state: 'REDUCING', scope: { kind: 'instrument', name: 'XOM' }, operator: 'olga', reason: 'corporate action' });
  await setState(pid, { state: 'ACTIVE', scope: { kind: 'strategy', name: 'trend' }, operator: 'olga', reason: 'fills fixed' });
  const reducing = await eventually(async () => {
    const r = await evaluate(c, { ...carry, clientOrderId: `carry-${Math.random()}` });
    return r.decision === Decision.DECISION_DENY ? r : undefined;
  }, 3_000);
  expect(reducing.reasons).toEqual([ReasonCode.REASON_CODE_REDUCE_ONLY]);
  expect(reducing.detail).toContain('instrument "XOM" is reducing');
  // The sell reduces carry's XOM (the approved buy above is reserved, not filled: report it first).
  await call(c, 'reportFill', {
    portfolioId: pid,
    strategy: 'carry',
    instrument: 'XOM',
    side: Side.SIDE_BUY,
    clientOrderId: 'carry-1',
    fillId: 'f-carry-1',
    quantity: 100,
    price: 50,
    orderDone: true,
  });
  expect((await evaluate(c, { ...carry, side: Side.SIDE_SELL, quantity: 50 })).decision).toBe(Decision.DECISION_APPROVE);
  // trend resumed.
  expect((await evaluate(c, buy(pid))).decision).toBe(Decision.DECISION_APPROVE);

  const scopes = await withPool((pool) => new TradingStateStore(pool).list(pid));
  expect(scopes).toEqual([
    expect.objectContaining({ scope: { kind: 'portfolio', name: '' }, state: 'ACTIVE' }),
    expect.objectContaining({ scope: { kind: 'strategy', name: 'trend' }, state: 'ACTIVE', changedBy: 'olga', reason: 'fills fixed' }),
    expect.objectContaining({
      scope: { kind: 'instrument', name: 'XOM' },
      state: 'REDUCING',
      changedBy: 'olga',
      reason: 'corporate action',
    }),
  ]);
  const actions = await withPool(
    async (pool) =>
      (
        await pool.query<{ action: string; operator: string; details: unknown }>(
          'SELECT action, operator, details FROM operator_actions WHERE portfolio_id = $1 ORDER BY created_at',
          [pid],
        )
      ).rows,
  );
  expect(actions).toEqual([
    { action: 'trading-state:HALTED', operator: 'olga', details: { scope: 'strategy', name: 'trend' } },
    { action: 'trading-state:REDUCING', operator: 'olga', details: { scope: 'instrument', name: 'XOM' } },
    { action: 'trading-state:ACTIVE', operator: 'olga', details: { scope: 'strategy', name: 'trend' } },
  ]);
});

test('the throttle refuses a caller beyond its burst with ORDER_RATE_THROTTLED, not another caller, and audits it', async () => {
  const pid = newPortfolioId('throttle-caller');
  await withPool((_p, store) => commitFixture(store, pid));
  const g = await started({ throttle: { perCaller: { ratePerSecond: 0.01, burst: 2 } } });
  // Two connections: two callers (no certificates on loopback: each is known by its peer address).
  const a = connect(g.address);
  const b = connect(g.address);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await evaluate(a, buy(pid, { quantity: 1 })));
  expect(answers.map((r) => r.decision)).toEqual([Decision.DECISION_APPROVE, Decision.DECISION_APPROVE, Decision.DECISION_DENY]);
  expect(answers[2].reasons).toEqual([ReasonCode.REASON_CODE_ORDER_RATE_THROTTLED]);
  expect(answers[2].detail).toMatch(/this caller sends orders faster/);
  expect((await evaluate(b, buy(pid, { quantity: 1 }))).decision).toBe(Decision.DECISION_APPROVE);
  const audited = await eventually(
    () =>
      withPool(async (pool) => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM gate_decisions WHERE portfolio_id = $1 AND 'ORDER_RATE_THROTTLED' = ANY(reasons)",
          [pid],
        );
        return rows[0].n === 1 ? rows[0].n : undefined;
      }),
    5_000,
  );
  expect(audited).toBe(1);
});

test('the portfolio throttle is shared by every caller of the portfolio, and refills', async () => {
  const pid = newPortfolioId('throttle-portfolio');
  const other = newPortfolioId('throttle-other');
  await withPool(async (_p, store) => {
    await commitFixture(store, pid);
    await commitFixture(store, other);
  });
  const g = await started({ throttle: { perPortfolio: { ratePerSecond: 5, burst: 2 } } });
  const a = connect(g.address);
  const b = connect(g.address);
  expect((await evaluate(a, buy(pid, { quantity: 1 }))).decision).toBe(Decision.DECISION_APPROVE);
  expect((await evaluate(b, buy(pid, { quantity: 1 }))).decision).toBe(Decision.DECISION_APPROVE);
  const third = await evaluate(b, buy(pid, { quantity: 1 }));
  expect(third.reasons).toEqual([ReasonCode.REASON_CODE_ORDER_RATE_THROTTLED]);
  expect(third.detail).toMatch(/portfolio .* receives orders faster/);
  expect((await evaluate(b, buy(other, { quantity: 1 }))).decision).toBe(Decision.DECISION_APPROVE);
  // 5 a second: one token back within 200 ms.
  await new Promise((r) => setTimeout(r, 250));
  expect((await evaluate(a, buy(pid, { quantity: 1 }))).decision).toBe(Decision.DECISION_APPROVE);
});

test('crossing the warning level approves with the limit as a warning, writes one alert and counts one metric, until re-armed', async () => {
  const pid = newPortfolioId('warning');
  await withPool((_p, store) => commitFixture(store, pid));
  const registry = new Registry();
  const g = await started({ observer: gateMetrics(registry) });
  const c = connect(g.address);
  const alerts = () =>
    withPool(
      async (pool) =>
        (
          await pool.query<{ severity: string; kind: string; message: string; details: { reason: string; limit: number } }>(
            "SELECT severity, kind, message, details FROM alerts WHERE portfolio_id = $1 AND kind = 'limit-warning' ORDER BY created_at",
            [pid],
          )
        ).rows,
    );
  const warnings = async () => (await registry.getSingleMetric('ballast_gate_limit_warnings_total')!.get()).values;

  // AAPL's position limit is 200 000 at a reference of 100: 900 units is 45 %, 900 + 800 is 85 %.
  expect((await evaluate(c, buy(pid, { quantity: 900 }))).warnings).toEqual([]);
  const crossing = await evaluate(c, buy(pid, { quantity: 800, clientOrderId: 'w-800' }));
  expect(crossing.decision).toBe(Decision.DECISION_APPROVE);
  expect(crossing.warnings).toEqual([
    expect.objectContaining({ reason: ReasonCode.REASON_CODE_POSITION_LIMIT, limit: 200_000, current: 90_000, postTrade: 170_000 }),
  ]);
  const above = await evaluate(c, buy(pid, { quantity: 100, clientOrderId: 'w-100' }));
  expect(above.decision).toBe(Decision.DECISION_APPROVE);
  expect(above.warnings).toHaveLength(1);
  const rows = await eventually(async () => ((await alerts()).length > 0 ? alerts() : undefined), 5_000);
  expect(rows).toEqual([
    expect.objectContaining({
      severity: 'warning',
      kind: 'limit-warning',
      details: expect.objectContaining({ reason: 'POSITION_LIMIT', limit: 200_000 }),
    }),
  ]);
  expect(rows[0].message).toMatch(/POSITION_LIMIT of trend\/AAPL at 85\.0 %/);
  expect(await warnings()).toEqual([expect.objectContaining({ value: 1, labels: { portfolio: pid, reason: 'POSITION_LIMIT' } })]);
  // The hard limit still denies.
  expect((await evaluate(c, buy(pid, { quantity: 300 }))).reasons).toEqual([ReasonCode.REASON_CODE_POSITION_LIMIT]);

  // Cancel the 800 and the 100: back to 45 %, the next AAPL approval re-arms; crossing again alerts again.
  for (const id of ['w-800', 'w-100']) {
    const cancel = {
      portfolioId: pid,
      strategy: 'trend',
      instrument: 'AAPL',
      side: Side.SIDE_BUY,
      clientOrderId: id,
      fillId: `cancel-${id}`,
    };
    await call(c, 'reportFill', { ...cancel, quantity: 0, price: 0, orderDone: true });
  }
  expect((await evaluate(c, buy(pid, { quantity: 10 }))).warnings).toEqual([]);
  expect((await evaluate(c, buy(pid, { quantity: 800 }))).warnings).toHaveLength(1);
  await eventually(async () => ((await alerts()).length === 2 ? true : undefined), 5_000);
  expect(await warnings()).toEqual([expect.objectContaining({ value: 2 })]);
});
