/**
 * EvaluateTradeStream against the real gate process (`ballast gate`, mTLS, an access policy): answers
 * match their orders (sequence and client order id, in order); the stream decides exactly as unary
 * EvaluateTrade does for the same orders; a malformed or refused order gets an error answer and the
 * stream goes on; an identity the policy does not know is refused, one without a grant for the order's
 * portfolio gets PERMISSION_DENIED for that order only; a retry by client order id is answered with the
 * original decision whichever path (stream or unary) decided first, and reserves nothing twice.
 * EvaluateTradeBatchStream decides the same way, with answers numbered across batches and sent together
 * as their group becomes durable; a batch over the in-flight bound is answered INVALID_ARGUMENT order by order.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Decision,
  type EvaluateTradeResponse,
  type EvaluateTradeStreamResponse,
  type GetCurrentBudgetResponse,
  type Order,
  Side,
  type SizePositionResponse,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { issueCertificate } from '../../../infra/certs';
import { type GateProcess, requireFreshBuild, startGateProcess, testPkiDir } from '../../support/gateProcess';
import { buy, call, client, type Client, commitFixture, databaseUrl, eventually, newDataDir, newPortfolioId, withPool } from './helpers';
import { openBatchStream, openTradeStream } from './tradeStreamClient';

jest.setTimeout(180_000);

const streamed = newPortfolioId('stream');
const unaryTwin = newPortfolioId('stream-twin');
const retried = newPortfolioId('stream-retry');
const deskB = newPortfolioId('stream-desk-b');
const slow = newPortfolioId('stream-slow');
const batched = newPortfolioId('stream-batched');
const batchedTwin = newPortfolioId('stream-batched-twin');
let gate: GateProcess;
let oms: Client;
const clients: Client[] = [];

/** A client of the test CA under `identity` (issued into the gate's CA directory). */
function as(identity: string): Client {
  const dir = testPkiDir();
  const files = issueCertificate(dir, identity, 'client');
  const creds = grpc.credentials.createSsl(readFileSync(join(dir, 'ca.crt')), readFileSync(files.keyFile), readFileSync(files.certFile));
  const c = client(gate.oms.target, creds, gate.oms.options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  requireFreshBuild(['grpc/handlers.ts', 'grpc/tradeStream.ts', 'grpc/server.ts']);
  await withPool(async (_p, store) => {
    for (const pid of [streamed, unaryTwin, retried, deskB, slow, batched, batchedTwin]) await commitFixture(store, pid);
  });
  const accessFile = join(testPkiDir(), 'stream-access.yaml');
  writeFileSync(
    accessFile,
    `ballast-demo-oms: { portfolios: ['*'], strategies: ['*'] }\ndesk-b: { portfolios: ['${deskB}'], strategies: [trend] }\n`,
  );
  gate = await startGateProcess(['--database-url', databaseUrl(), '--data-dir', newDataDir(), '--access', accessFile]);
  oms = client(gate.oms.target, gate.oms.credentials, gate.oms.options);
  clients.push(oms);
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  await gate?.stop();
});

const evaluate = (c: Client, order: Order): Promise<EvaluateTradeResponse> => call(c, 'evaluateTrade', { order });

/** 80 orders (seeded): buys and sells across the budget's pairs, unknown instruments, prices off the collar, retries, re-used ids. */
function orderFlow(portfolioId: string): Order[] {
  let seed = 7;
  const next = (): number => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  const pairs = [
    ['trend', 'AAPL', 100],
    ['trend', 'MSFT', 200],
    ['carry', 'XOM', 50],
    ['carry', 'TSLA', 300],
  ] as const;
  const orders: Order[] = [];
  for (let i = 0; i < 80; i++) {
    const [strategy, instrument, ref] = pairs[Math.floor(next() * pairs.length)];
    const off = next() < 0.1 ? 1.08 : 1 + (next() - 0.5) * 0.02;
    const order: Order = {
      portfolioId,
      strategy,
      instrument,
      side: next() < 0.7 ? Side.SIDE_BUY : Side.SIDE_SELL,
      quantity: Math.round(50 + next() * (60_000 / ref)),
      price: Math.round(ref * off * 100) / 100,
      clientOrderId: `o-${i}`,
    };
    const r = next();
    if (r < 0.08 && orders.length > 0)
      orders.push(orders[Math.floor(next() * orders.length)]); // a retry
    else if (r < 0.12 && orders.length > 0)
      orders.push({ ...order, clientOrderId: orders[Math.floor(next() * orders.length)].clientOrderId });
    else orders.push(order);
  }
  return orders;
}

/** A decision without what differs between two portfolios of the same budget (their ids). */
const comparable = (r: EvaluateTradeResponse | undefined, portfolioId: string) =>
  r && { ...r, detail: r.detail.split(portfolioId).join('P') };

test('answers match their orders, in order, and decide exactly as unary EvaluateTrade', async () => {
  const viaStream = orderFlow(streamed);
  const viaUnary = orderFlow(unaryTwin);
  const stream = openTradeStream(oms);
  viaStream.forEach((o) => stream.send(o));
  stream.end();
  const answers = await stream.waitFor(viaStream.length);
  expect((await stream.status).code).toBe(grpc.status.OK);
  expect(answers.map((a) => [a.sequence, a.portfolioId, a.clientOrderId])).toEqual(
    viaStream.map((o, i) => [i + 1, streamed, o.clientOrderId]),
  );

  const unary: EvaluateTradeResponse[] = [];
  for (const o of viaUnary) unary.push(await evaluate(oms, o));
  const decided = answers.map((a) => (a.result?.$case === 'decision' ? a.result.value : undefined));
  expect(decided.map((d) => comparable(d, streamed))).toEqual(unary.map((u) => comparable(u, unaryTwin)));
  // The flow exercises approvals, denials, retries and re-used ids, not one outcome 80 times.
  const outcomes = new Set(unary.map((u) => (u.replayed ? 'replayed' : `${u.decision}:${u.reasons.join(',')}`)));
  expect(outcomes.size).toBeGreaterThanOrEqual(5);
  expect(unary.some((u) => u.decision === Decision.DECISION_APPROVE && !u.replayed)).toBe(true);
});

test('a malformed or refused order gets an error answer and the stream goes on', async () => {
  const stream = openTradeStream(oms);
  stream.send(undefined);
  stream.send(buy(streamed, { quantity: Number.NaN, clientOrderId: 'bad-nan' }));
  stream.send(buy(streamed, { side: Side.SIDE_UNSPECIFIED, clientOrderId: 'bad-side' }));
  stream.send(buy(streamed, { clientOrderId: '' }));
  stream.send(buy(streamed, { quantity: 1, clientOrderId: 'good-after-bad' }));
  const answers = await stream.waitFor(5);
  const codes = answers.map((a) => (a.result?.$case === 'error' ? a.result.value.code : 'decision'));
  expect(codes).toEqual([
    grpc.status.INVALID_ARGUMENT,
    grpc.status.INVALID_ARGUMENT,
    grpc.status.INVALID_ARGUMENT,
    grpc.status.INVALID_ARGUMENT,
    'decision',
  ]);
  expect(answers.map((a) => a.clientOrderId)).toEqual(['', 'bad-nan', 'bad-side', '', 'good-after-bad']);
  expect(answers[4].result).toMatchObject({ $case: 'decision', value: { decision: Decision.DECISION_APPROVE } });
  // Still open: another order after the errors is decided too.
  stream.send(buy(streamed, { quantity: 1, clientOrderId: 'still-open' }));
  expect((await stream.waitFor(6))[5]).toMatchObject({ sequence: 6, clientOrderId: 'still-open', result: { $case: 'decision' } });
  stream.end();
  expect((await stream.status).code).toBe(grpc.status.OK);
});

test('an identity the policy does not know is refused; a grant is checked per order', async () => {
  const stranger = openTradeStream(as('stranger'));
  stranger.send(buy(streamed));
  await expect(stranger.waitFor(1, 10_000)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  expect(stranger.answers).toEqual([]);

  const desk = openTradeStream(as('desk-b'));
  desk.send(buy(streamed, { clientOrderId: 'not-mine' })); // another portfolio
  desk.send(buy(deskB, { strategy: 'carry', instrument: 'XOM', price: 50, clientOrderId: 'not-my-strategy' }));
  desk.send(buy(deskB, { clientOrderId: 'mine' }));
  const answers = await desk.waitFor(3);
  expect(answers.map((a) => (a.result?.$case === 'error' ? a.result.value.code : a.result?.value.decision))).toEqual([
    grpc.status.PERMISSION_DENIED,
    grpc.status.PERMISSION_DENIED,
    Decision.DECISION_APPROVE,
  ]);
  desk.end();
  expect((await desk.status).code).toBe(grpc.status.OK);
  // The unary call refuses the same orders alike.
  await expect(evaluate(as('desk-b'), buy(streamed))).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
});

test('a retry by client order id gets the original decision across stream and unary, reserved once', async () => {
  // 1 000 AAPL at 100 = 100k of the pair's 200k position limit, twice (one via each path first).
  const first = buy(retried, { quantity: 1_000, clientOrderId: 'via-stream' });
  const second = buy(retried, { quantity: 1_000, clientOrderId: 'via-unary' });
  const stream = openTradeStream(oms);
  stream.send(first);
  const [original] = await stream.waitFor(1);
  expect(original.result).toMatchObject({ $case: 'decision', value: { decision: Decision.DECISION_APPROVE, replayed: false } });
  const unaryRetry = await evaluate(oms, first);
  expect(unaryRetry).toEqual({ ...(original.result!.value as EvaluateTradeResponse), replayed: true });

  const unaryOriginal = await evaluate(oms, second);
  expect(unaryOriginal).toMatchObject({ decision: Decision.DECISION_APPROVE, replayed: false });
  stream.send(second);
  stream.send(first);
  stream.send({ ...second, quantity: 10 }); // same id, another order
  const [, streamRetry, again, reused] = await stream.waitFor(4);
  expect(streamRetry.result).toEqual({ $case: 'decision', value: { ...unaryOriginal, replayed: true } });
  expect(again.result).toMatchObject({ $case: 'decision', value: { decision: Decision.DECISION_APPROVE, replayed: true } });
  expect(reused.result).toMatchObject({ $case: 'decision', value: { decision: Decision.DECISION_DENY, replayed: false } });
  stream.end();
  await stream.status;

  // Reserved once each: the 200k limit is full, nothing more fits.
  const room = await call<unknown, SizePositionResponse>(oms, 'sizePosition', {
    order: buy(retried, { quantity: 100, clientOrderId: '' }),
  });
  expect(room.approvedQuantity).toBeCloseTo(0, 6);
});

test('a reader that does not read for a while gets every answer, in order, once it does', async () => {
  // 5 000 orders, five times the gate's in-flight bound (1 000), written while the client reads
  // nothing; the gate pauses and resumes reading as answers drain (the bound itself: test/unit/grpc/tradeStream.test.ts).
  const c = client(gate.oms.target, gate.oms.credentials, gate.oms.options);
  clients.push(c);
  const call = c.evaluateTradeStream();
  call.pause();
  const n = 5_000;
  for (let i = 0; i < n; i++) call.write({ order: buy(slow, { quantity: 0.001, clientOrderId: `slow-${i}` }) });
  await new Promise((r) => setTimeout(r, 2_000));
  const received: EvaluateTradeStreamResponse[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('data', (a: EvaluateTradeStreamResponse) => received.push(a));
  call.resume();
  call.end();
  expect((await status).code).toBe(grpc.status.OK);
  expect(received.map((a) => a.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(received.every((a) => a.result?.$case === 'decision' && a.result.value.decision === Decision.DECISION_APPROVE)).toBe(true);
  // Every one recorded once (the spool reaches Postgres within a flush or two).
  const audited = (): Promise<number> =>
    withPool(async (pool) =>
      Number((await pool.query('SELECT count(*) AS n FROM gate_decisions WHERE portfolio_id = $1', [slow])).rows[0].n),
    );
  expect(await eventually(async () => ((await audited()) === n ? n : undefined), 15_000)).toBe(n);
});

/** The client order ids of `portfolioId` in the audit. */
const auditedIds = (portfolioId: string): Promise<Set<string>> =>
  withPool(async (pool) => {
    const { rows } = await pool.query<{ id: string }>('SELECT client_order_id AS id FROM gate_decisions WHERE portfolio_id = $1', [
      portfolioId,
    ]);
    return new Set(rows.map((r) => r.id));
  });

test('the batched stream decides exactly as unary, numbers answers across batches, sends a group together, audits each', async () => {
  const flow = orderFlow(batched);
  const stream = openBatchStream(oms);
  for (const [from, to] of [
    [0, 1],
    [1, 8],
    [8, 38],
    [38, 80],
  ])
    stream.send(flow.slice(from, to));
  stream.end();
  const answers = await stream.waitFor(flow.length);
  expect((await stream.status).code).toBe(grpc.status.OK);
  expect(answers.map((a) => [a.sequence, a.portfolioId, a.clientOrderId])).toEqual(flow.map((o, i) => [i + 1, batched, o.clientOrderId]));
  // Answers that became durable together left in one message.
  expect(stream.messages.length).toBeLessThan(answers.length);

  const unary: EvaluateTradeResponse[] = [];
  for (const o of orderFlow(batchedTwin)) unary.push(await evaluate(oms, o));
  const decided = answers.map((a) => (a.result?.$case === 'decision' ? a.result.value : undefined));
  expect(decided.map((d) => comparable(d, batched))).toEqual(unary.map((u) => comparable(u, batchedTwin)));
  const decidedIds = answers.filter((a) => a.result?.$case === 'decision' && a.clientOrderId !== '').map((a) => a.clientOrderId);
  const audited = await eventually(async () => {
    const ids = await auditedIds(batched);
    return decidedIds.every((id) => ids.has(id)) ? ids : undefined;
  }, 15_000);
  expect(audited.size).toBeGreaterThan(0);
});

test('a batch over the gate message limit ends the stream RESOURCE_EXHAUSTED with none of it decided; a stranger is refused', async () => {
  // The in-flight bound per batch (1 000 orders) is checked order by order in test/unit/grpc/tradeStream.test.ts;
  // with the gate's 64 KiB message limit, a batch of 1 000 orders of this size never arrives at all.
  const stream = openBatchStream(oms);
  stream.send([buy(batched, { quantity: 0.001, clientOrderId: 'before-too-large' })]);
  expect((await stream.waitFor(1))[0].result?.$case).toBe('decision');
  const tooLarge = Array.from({ length: 1_000 }, (_, i) => buy(batched, { quantity: 0.001, clientOrderId: `too-large-${i}` }));
  stream.send(tooLarge);
  const status = await stream.status;
  expect(status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringContaining('larger than max') });
  const ids = await eventually(async () => {
    const audited = await auditedIds(batched);
    return audited.has('before-too-large') ? audited : undefined;
  }, 15_000);
  expect(tooLarge.filter((o) => ids.has(o.clientOrderId))).toEqual([]);

  const stranger = openBatchStream(as('stranger'));
  stranger.send([buy(batched)]);
  await expect(stranger.waitFor(1, 10_000)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
});

test('GetCurrentBudget answers the typed budget and its commit time beside the JSON kept for existing clients', async () => {
  const r = await call<unknown, GetCurrentBudgetResponse>(oms, 'getCurrentBudget', { portfolioId: retried });
  const json = JSON.parse(r.budgetJson) as { limits: unknown; assets: Array<{ asset: string }> };
  expect(r.budget?.limits).toEqual(json.limits);
  expect(r.budget?.assets.map((a) => a.asset)).toEqual(json.assets.map((a) => a.asset));
  expect((r.committedTime?.seconds ?? 0) * 1000 + (r.committedTime?.nanos ?? 0) / 1e6).toBe(Date.parse(r.committedAt));
});
