/**
 * Malformed and hostile requests are answered with gRPC errors (never a decision, never a crash), and
 * the server keeps answering valid requests afterwards.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { Decision, EvaluateTradeRequest, type EvaluateTradeResponse, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../../grpc/server';
import { buy, call, client, type Client, commitFixture, gate, newPortfolioId, withPool } from './helpers';

let g: RunningGate;
let c: Client;
const pid = newPortfolioId('hostile');

beforeAll(async () => {
  await withPool((_p, store) => commitFixture(store, pid));
  g = await gate({ maxReceiveMessageLength: 16 * 1024 });
  c = client(g.address, undefined, { 'grpc.max_send_message_length': -1 });
});
afterAll(async () => {
  c.close();
  await g.close();
});

const codeOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => -1,
    (e: grpc.ServiceError) => e.code,
  );

test.each([
  ['NaN quantity', { quantity: NaN }],
  ['infinite quantity', { quantity: Infinity }],
  ['infinite price', { price: -Infinity }],
  ['NaN price', { price: NaN }],
  ['unknown side enum value', { side: 7 as Side }],
  ['unspecified side', { side: Side.SIDE_UNSPECIFIED }],
  ['missing portfolio', { portfolioId: '' }],
  ['missing client order id', { clientOrderId: '' }],
  ['10 kB instrument name', { instrument: 'X'.repeat(10_000) }],
  ['control characters in an id', { strategy: 'trend\u0000AAPL' }],
])('%s → INVALID_ARGUMENT', async (_name, patch) => {
  expect(await codeOf(call(c, 'evaluateTrade', { order: buy(pid, patch) }))).toBe(grpc.status.INVALID_ARGUMENT);
});

test('a request without an order → INVALID_ARGUMENT', async () => {
  expect(await codeOf(call(c, 'evaluateTrade', {}))).toBe(grpc.status.INVALID_ARGUMENT);
});

test('an oversized message is refused with RESOURCE_EXHAUSTED', async () => {
  expect(await codeOf(call(c, 'evaluateTrade', { order: buy(pid, { instrument: 'Y'.repeat(100_000) }) }))).toBe(
    grpc.status.RESOURCE_EXHAUSTED,
  );
});

test('random bytes and truncated messages are errors, and the server keeps serving', async () => {
  const raw = (bytes: Buffer): Promise<number> =>
    new Promise((resolve) => {
      c.makeUnaryRequest(
        '/ballast.gate.v1.GateService/EvaluateTrade',
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (err) => resolve(err ? err.code : -1),
      );
    });
  const valid = Buffer.from(EvaluateTradeRequest.encode({ order: buy(pid) }).finish());
  const inputs = [
    ...Array.from({ length: 50 }, (_, i) => randomBytes(1 + ((i * 37) % 500))),
    valid.subarray(0, valid.length - 3),
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  ];
  for (const bytes of inputs) {
    const code = await raw(bytes);
    // Garbage either fails to decode or decodes to an order that validation rejects; never a decision.
    expect([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT]).toContain(code);
  }
  const ok = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid) });
  expect(ok.decision).toBe(Decision.DECISION_APPROVE);
});

test('deadlines: an already-expired deadline is reported as DEADLINE_EXCEEDED', async () => {
  expect(await codeOf(call(c, 'evaluateTrade', { order: buy(pid) }, -1))).toBe(grpc.status.DEADLINE_EXCEEDED);
});

test('control RPCs of a gate without an access policy are refused to every caller (PERMISSION_DENIED)', async () => {
  expect(await codeOf(call(c, 'triggerRebalance', { portfolioId: pid, reason: 'test' }))).toBe(grpc.status.PERMISSION_DENIED);
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  expect(
    await codeOf(call(c, 'overrideLimit', { portfolioId: pid, field: 4, value: 1, strategy: '', asset: '', reason: 'r', expiresAt })),
  ).toBe(grpc.status.PERMISSION_DENIED);
});

test('a gate that cannot reach Postgres fails to start instead of serving without budgets', async () => {
  await expect(gate({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere' })).rejects.toThrow();
});

test('a full audit backlog refuses decisions with RESOURCE_EXHAUSTED instead of deciding unrecorded', async () => {
  const backlogged = await gate({ auditFlushIntervalMs: 600_000, auditMaxQueue: 5 });
  const bc = client(backlogged.address);
  try {
    for (let i = 0; i < 5; i++) {
      const r = await call<unknown, EvaluateTradeResponse>(bc, 'evaluateTrade', { order: buy(pid) });
      expect(r.decision).toBe(Decision.DECISION_APPROVE);
    }
    expect(await codeOf(call(bc, 'evaluateTrade', { order: buy(pid) }))).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await codeOf(call(bc, 'sizePosition', { order: buy(pid, { clientOrderId: '' }) }))).toBe(grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    bc.close();
    await backlogged.close();
  }
});
