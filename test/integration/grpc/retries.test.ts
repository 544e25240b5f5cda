/**
 * Retries against the real gate process (`ballast gate`, mTLS), before and after a SIGKILL (issue 13
 * §3, §5): a retried EvaluateTrade gets its original decision and reserves nothing twice; another
 * order under the same id is CLIENT_ORDER_ID_REUSED; a retried ReportFill is a duplicate; and denials
 * carry their structured explanation over the wire.
 */
import {
  Decision,
  type EvaluateTradeResponse,
  LimitMeasure,
  LimitScope,
  ReasonCode,
  type ReportFillResponse,
  Side,
  type SizePositionResponse,
  TradingState,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { type GateProcess, requireFreshBuild, startGateProcess } from '../../support/gateProcess';
import { buy, call, client, type Client, commitFixture, databaseUrl, newDataDir, newPortfolioId, withPool } from './helpers';

jest.setTimeout(300_000);
beforeAll(() => requireFreshBuild(['grpc/gate.ts', 'grpc/handlers.ts', 'risk/pretrade/checks.ts', 'risk/pretrade/exposures.ts']));

const running = new Set<GateProcess>();
afterEach(async () => {
  await Promise.all([...running].map((g) => g.kill()));
  running.clear();
});

async function startOn(dataDir: string): Promise<{ gate: GateProcess; client: Client }> {
  const gate = await startGateProcess(['--database-url', databaseUrl(), '--data-dir', dataDir]);
  running.add(gate);
  return { gate, client: client(gate.oms.target, gate.oms.credentials, gate.oms.options) };
}

const evaluate = (c: Client, order: ReturnType<typeof buy>) => call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order });

test('a retried EvaluateTrade is answered with its original decision, before and after a restart', async () => {
  const pid = newPortfolioId('retry');
  const version = await withPool((_p, store) => commitFixture(store, pid));
  const dataDir = newDataDir();
  const first = await startOn(dataDir);

  // 1 000 AAPL at 100: 100k of the pair's 200k position limit (and the largest order, 100k).
  const order = buy(pid, { quantity: 1_000, clientOrderId: `${pid}-a` });
  const approved = await evaluate(first.client, order);
  expect(approved).toMatchObject({ decision: Decision.DECISION_APPROVE, budgetVersion: version, replayed: false, explanations: [] });
  const retried = await evaluate(first.client, order);
  expect(retried).toEqual({ ...approved, replayed: true });

  // Reserved once: with another 500 approved, 50k of room is left (were the retry reserved again, none).
  expect((await evaluate(first.client, buy(pid, { quantity: 500 }))).decision).toBe(Decision.DECISION_APPROVE);
  const room = await call<unknown, SizePositionResponse>(first.client, 'sizePosition', {
    order: buy(pid, { quantity: 1_000, clientOrderId: '' }),
  });
  expect(room.approvedQuantity).toBeCloseTo(500, 6);
  expect(room.explanations).toEqual([
    {
      reason: ReasonCode.REASON_CODE_POSITION_LIMIT,
      scope: LimitScope.LIMIT_SCOPE_INSTRUMENT,
      strategy: 'trend',
      instrument: 'AAPL',
      measure: LimitMeasure.LIMIT_MEASURE_POSITION_NOTIONAL,
      limit: 200_000,
      current: 150_000,
      postTrade: 250_000,
      overrideInForce: false,
    },
  ]);

  // The same id for another order: refused, with its own reason.
  const reused = await evaluate(first.client, { ...order, quantity: 10 });
  expect(reused).toMatchObject({
    decision: Decision.DECISION_DENY,
    reasons: [ReasonCode.REASON_CODE_CLIENT_ORDER_ID_REUSED],
    replayed: false,
  });
  expect(reused.explanations).toMatchObject([
    { reason: ReasonCode.REASON_CODE_CLIENT_ORDER_ID_REUSED, scope: LimitScope.LIMIT_SCOPE_PORTFOLIO },
  ]);

  // A fill of 200, reported twice (the OMS retrying): applied once.
  const fill = {
    portfolioId: pid,
    strategy: 'trend',
    instrument: 'AAPL',
    side: Side.SIDE_BUY,
    clientOrderId: order.clientOrderId,
    fillId: `${pid}-f1`,
    quantity: 200,
    price: 100,
    orderDone: false,
  };
  expect(await call<unknown, ReportFillResponse>(first.client, 'reportFill', fill)).toEqual({ duplicate: false, positionQuantity: 200 });
  expect(await call<unknown, ReportFillResponse>(first.client, 'reportFill', fill)).toEqual({ duplicate: true, positionQuantity: 200 });

  await first.gate.kill();
  running.delete(first.gate);
  first.client.close();

  // The restarted gate rebuilt its memory of the order (and its answer) from what it acknowledged.
  const second = await startOn(dataDir);
  const afterRestart = await evaluate(second.client, order);
  expect(afterRestart).toMatchObject({
    decision: Decision.DECISION_APPROVE,
    reasons: [],
    budgetVersion: version,
    tradingState: TradingState.TRADING_STATE_ACTIVE,
    replayed: true,
  });
  expect((await evaluate(second.client, { ...order, quantity: 1, price: 101 })).reasons).toEqual([
    ReasonCode.REASON_CODE_CLIENT_ORDER_ID_REUSED,
  ]);
  // Still reserved once: 200 filled + 800 + 500 still reserved = 150k; 500 more fit, 501 do not.
  const denied = await evaluate(second.client, buy(pid, { quantity: 501 }));
  expect(denied.reasons).toEqual([ReasonCode.REASON_CODE_POSITION_LIMIT]);
  expect(denied.explanations[0]).toMatchObject({ limit: 200_000, current: 150_000, postTrade: 200_100, overrideInForce: false });
  expect((await evaluate(second.client, buy(pid, { quantity: 500 }))).decision).toBe(Decision.DECISION_APPROVE);
  expect(await call<unknown, ReportFillResponse>(second.client, 'reportFill', fill)).toEqual({ duplicate: true, positionQuantity: 200 });
  second.client.close();
});
