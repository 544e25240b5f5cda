/**
 * The gate served over stand-in stores, no Postgres: what it decides comes from the injected snapshot
 * and positions readers, what it decides and is told goes to the injected sinks, and it does not serve
 * trades before its first full load of budgets.
 */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { PortfolioChangeListener } from '../../../db/notifications';
import type { FillRecord } from '../../../db/stores/fills';
import { type DecisionRecord, decisionLine, parseDecisionLine } from '../../../db/stores/gateDecisions';
import type { GateSnapshotRow } from '../../../db/stores/gateSnapshots';
import { type EvaluateTradeResponse, ReasonCode, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { GateStores } from '../../../grpc/ports';
import { type RunningGate, serveGate } from '../../../grpc/server';
import { HealthClient } from '../../integration/grpc/healthClient';
import { buy, call, type Client, client, eventually } from '../../integration/grpc/helpers';
import { budget } from '../risk/pretrade/fixtures';

function standIns() {
  const decided: Array<[string, DecisionRecord]> = [];
  const filled: FillRecord[] = [];
  const state = { readerDown: false, listener: undefined as PortfolioChangeListener | undefined };
  const row: GateSnapshotRow = {
    portfolioId: 'p1',
    tradingState: 'ACTIVE',
    loopHeartbeatAtMs: undefined,
    latest: { portfolioId: 'p1', version: 3, committedAt: new Date().toISOString(), budget: budget('p1') },
    overrides: [],
  };
  const stores: GateStores = {
    decisions: {
      encode: decisionLine,
      decode: parseDecisionLine,
      insertLines: async (lines) =>
        void decided.push(...lines.map(parseDecisionLine).map(({ replica, record }): [string, DecisionRecord] => [replica, record])),
    },
    fills: { insert: async (_replica, rows) => void filled.push(...rows) },
    snapshots: {
      read: async () => {
        if (state.readerDown) throw new Error('database unreachable');
        return [row];
      },
    },
    // 1 000 AAPL held: 100k of the pair's 200k position limit.
    positions: { all: async () => [{ portfolioId: 'p1', strategy: 'trend', asset: 'AAPL', quantity: 1_000, avgPrice: 100 }] },
    changes: {
      subscribe: async (listener) => {
        state.listener = listener;
        await listener.onConnected();
        return { connected: true, close: async () => undefined };
      },
    },
  };
  return { stores, decided, filled, state };
}

const logger = pino({ level: 'silent' });
let gate: RunningGate | undefined;
let c: Client;
afterEach(async () => {
  c.close();
  await gate?.close();
});

test('decides from the injected readers and writes through the injected sinks', async () => {
  const s = standIns();
  gate = await serveGate({ stores: s.stores, logger, replicaId: 'stand-in' });
  c = client(gate.address);
  const ok = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy('p1', { clientOrderId: 'a' }) });
  expect(ok).toMatchObject({ reasons: [], budgetVersion: 3 });
  // 1 000 held + 100 reserved + 950 = 205k > 200k: denied only because the positions reader said so.
  const held = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', {
    order: buy('p1', { quantity: 950, clientOrderId: 'b' }),
  });
  expect(held.reasons).toEqual([ReasonCode.REASON_CODE_POSITION_LIMIT]);
  await call(c, 'reportFill', {
    portfolioId: 'p1',
    strategy: 'trend',
    instrument: 'AAPL',
    side: Side.SIDE_BUY,
    clientOrderId: 'a',
    fillId: 'f-1',
    quantity: 100,
    price: 100,
    orderDone: true,
  });
  await gate.close();
  expect(s.decided.map(([replica, d]) => [replica, d.clientOrderId, d.decision, d.reasons])).toEqual([
    ['stand-in', 'a', 'APPROVE', []],
    ['stand-in', 'b', 'DENY', ['POSITION_LIMIT']],
  ]);
  expect(s.filled).toMatchObject([{ fillId: 'f-1', quantity: 100, side: 'BUY', orderDone: true }]);
});

test('answers UNAVAILABLE until the first full load, then serves after a change notification', async () => {
  const s = standIns();
  s.state.readerDown = true;
  gate = await serveGate({ stores: s.stores, logger, pollIntervalMs: 3_600_000 });
  c = client(gate.address);
  const refused = await call(c, 'evaluateTrade', { order: buy('p1') }).catch((e: grpc.ServiceError) => e);
  expect(refused).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'gate is starting: budgets not loaded yet' });
  s.state.readerDown = false;
  s.state.listener!.onChange(undefined);
  const ok = await eventually(() => call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy('p1') }), 2_000);
  expect(ok).toMatchObject({ reasons: [], budgetVersion: 3 });
});

test('a Postgres outage longer than the backlog holds turns health NOT_SERVING and refuses trades; it serves again once written', async () => {
  const s = standIns();
  let down = true;
  const insertLines = s.stores.decisions.insertLines;
  const stores: GateStores = {
    ...s.stores,
    decisions: {
      ...s.stores.decisions,
      insertLines: async (lines) => {
        if (down) throw new Error('connection refused');
        await insertLines(lines);
      },
    },
  };
  gate = await serveGate({ stores, logger, replicaId: 'stand-in', auditMaxQueue: 2, auditFlushIntervalMs: 20 });
  c = client(gate.address);
  const health = new HealthClient(gate.address);
  try {
    expect(await health.check('ballast.gate.v1.GateService')).toBe('SERVING');
    await call(c, 'evaluateTrade', { order: buy('p1', { clientOrderId: 'a' }) });
    await call(c, 'evaluateTrade', { order: buy('p1', { clientOrderId: 'b' }) });
    expect(
      await eventually(async () => ((await health.check('ballast.gate.v1.GateService')) === 'NOT_SERVING' ? true : undefined), 3_000),
    ).toBe(true);
    const refused = await call(c, 'evaluateTrade', { order: buy('p1', { clientOrderId: 'c' }) }).catch((e: grpc.ServiceError) => e);
    expect(refused).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    down = false;
    expect(
      await eventually(async () => ((await health.check('ballast.gate.v1.GateService')) === 'SERVING' ? true : undefined), 3_000),
    ).toBe(true);
    expect(s.decided.map(([, d]) => d.clientOrderId)).toEqual(['a', 'b']);
  } finally {
    health.close();
  }
});
