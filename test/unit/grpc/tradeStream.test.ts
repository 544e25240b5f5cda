/**
 * The trade stream's flow control with a stand-in call whose peer never reads (writes report a full
 * buffer): the stream stops reading at its in-flight bound, holds at most that many orders, answers in
 * order as records become durable, and resumes below half the bound once gRPC drains.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Caller } from '../../../grpc/access';
import type {
  EvaluateTradeBatchStreamResponse,
  EvaluateTradeResponse,
  EvaluateTradeStreamResponse,
  Order,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { Decision } from '../../../grpc/generated/ballast/gate/v1/gate';
import { InvalidArgument, Refused } from '../../../grpc/status';
import {
  BATCHED,
  type BatchStreamCall,
  MAX_ANSWERS_PER_MESSAGE,
  ONE_PER_MESSAGE,
  type TradeStreamCall,
  TradeStreams,
} from '../../../grpc/tradeStream';

class FakeCall<Res = EvaluateTradeStreamResponse> extends EventEmitter {
  readonly written: Res[] = [];
  paused = false;
  accepting = true;
  cancelled = false;
  ended = false;
  status: Partial<grpc.StatusObject> | undefined;
  constructor() {
    super();
    this.on('error', (s: Partial<grpc.StatusObject>) => (this.status = s));
  }
  getDeadline = (): grpc.Deadline => Infinity;
  getPeer = (): string => 'test';
  getAuthContext = () => ({});
  metadata = new grpc.Metadata();
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(m: Res): boolean {
    this.written.push(m);
    return this.accepting;
  }
  end(): void {
    this.ended = true;
  }
  /** The peer sends one order, if the stream is reading. */
  send(order: Order | undefined): boolean {
    if (this.paused) return false;
    this.emit('data', { order });
    return true;
  }
  /** The peer sends a batch of orders, if the stream is reading. */
  sendBatch(orders: Order[]): boolean {
    if (this.paused) return false;
    this.emit('data', { orders });
    return true;
  }
}

const logger = pino({ level: 'silent' });
const order = (i: number): Order => ({
  portfolioId: 'p',
  strategy: 's',
  instrument: 'i',
  side: 1,
  quantity: 1,
  price: 1,
  clientOrderId: `o-${i}`,
});
const approve: EvaluateTradeResponse = {
  decision: Decision.DECISION_APPROVE,
  reasons: [],
  detail: '',
  budgetVersion: 1,
  tradingState: 1,
  explanations: [],
  replayed: false,
  warnings: [],
};

type Decide = (o: Order | undefined) => { response: EvaluateTradeResponse; recorded: Promise<void> };
const approveAtOnce: Decide = () => ({ response: approve, recorded: Promise.resolve() });

function open(maxInFlight: number, decide: Decide = approveAtOnce) {
  const call = new FakeCall();
  const streams = new TradeStreams({ logger, maxInFlight });
  streams.serve(
    call as unknown as TradeStreamCall,
    ONE_PER_MESSAGE,
    () => undefined,
    (_c: Caller, _l, o) => decide(o),
  );
  return { call, streams };
}

function openBatched(maxInFlight: number, decide: Decide = approveAtOnce) {
  const call = new FakeCall<EvaluateTradeBatchStreamResponse>();
  const decided: string[] = [];
  const streams = new TradeStreams({ logger, maxInFlight });
  streams.serve(
    call as unknown as BatchStreamCall,
    BATCHED,
    () => undefined,
    (_c: Caller, _l, o) => {
      decided.push(o?.clientOrderId ?? '');
      return decide(o);
    },
  );
  return { call, streams, decided };
}

const orders = (from: number, n: number): Order[] => Array.from({ length: n }, (_, i) => order(from + i));

const settle = () => new Promise((r) => setTimeout(r, 0));

test('a peer that never reads holds the stream at its bound; reading resumes below half once gRPC drains', async () => {
  const { call } = open(100);
  call.accepting = false; // the peer's window is full from the first answer on
  let sent = 0;
  for (let i = 0; i < 10_000 && call.send(order(i)); i++) {
    sent++;
    await settle();
  }
  // One answer went to gRPC (its buffer then reported full); 100 more wait in the stream, which stopped reading.
  expect(sent).toBe(101);
  expect(call.paused).toBe(true);
  expect(call.written).toHaveLength(1);

  call.accepting = true;
  call.emit('drain');
  expect(call.written.map((w) => w.sequence)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  expect(call.paused).toBe(false);
});

test('answers leave in order even when later records are durable first; errors take their place', async () => {
  const gates: Array<() => void> = [];
  const { call } = open(10, (o) => {
    if (!o) throw new InvalidArgument('order is required');
    if (o.clientOrderId === 'o-2') throw new Refused(grpc.status.PERMISSION_DENIED, 'not yours');
    return { response: approve, recorded: new Promise<void>((r) => gates.push(r)) };
  });
  [order(1), undefined, order(2), order(3)].forEach((o) => call.send(o));
  await settle();
  // The errors are ready but wait behind order 1, whose record is not durable yet.
  expect(call.written).toEqual([]);
  gates[1](); // order 3 durable first
  await settle();
  expect(call.written).toEqual([]);
  gates[0]();
  await settle();
  expect(call.written.map((w) => [w.sequence, w.clientOrderId, w.result?.$case])).toEqual([
    [1, 'o-1', 'decision'],
    [2, '', 'error'],
    [3, 'o-2', 'error'],
    [4, 'o-3', 'decision'],
  ]);
  expect(call.written.map((w) => (w.result?.$case === 'error' ? w.result.value.code : 0))).toEqual([
    0,
    grpc.status.INVALID_ARGUMENT,
    grpc.status.PERMISSION_DENIED,
    0,
  ]);
});

test('a record that cannot be made durable is answered UNAVAILABLE, and the stream goes on', async () => {
  let n = 0;
  const { call } = open(10, () => ({ response: approve, recorded: n++ === 0 ? Promise.reject(new Error('disk')) : Promise.resolve() }));
  call.send(order(1));
  call.send(order(2));
  await settle();
  expect(call.written.map((w) => (w.result?.$case === 'error' ? w.result.value.code : 'ok'))).toEqual([grpc.status.UNAVAILABLE, 'ok']);
});

test('a half-close ends the stream OK once every answer is written; close() ends it UNAVAILABLE', async () => {
  const { call } = open(10);
  call.send(order(1));
  call.emit('end');
  await settle();
  expect(call.ended).toBe(true);

  const gates: Array<() => void> = [];
  const second = open(10, () => ({ response: approve, recorded: new Promise<void>((r) => gates.push(r)) }));
  second.call.send(order(1));
  const closed = second.streams.close(5_000);
  expect(second.call.paused).toBe(true);
  gates[0]();
  await closed;
  // What was read is answered first, then the status.
  expect(second.call.written).toHaveLength(1);
  expect(second.call.status?.code).toBe(grpc.status.UNAVAILABLE);
});

describe('EvaluateTradeBatchStream', () => {
  test('the answers that become durable together leave as one message, in order, numbered across batches', async () => {
    const gates: Array<() => void> = [];
    const { call } = openBatched(100, () => ({ response: approve, recorded: new Promise<void>((r) => gates.push(r)) }));
    call.sendBatch(orders(1, 3));
    call.sendBatch(orders(4, 2));
    await settle();
    expect(call.written).toEqual([]);
    gates.slice(0, 3).forEach((g) => g()); // the first batch's group is durable
    await settle();
    gates[4](); // the fifth waits behind the fourth
    await settle();
    gates[3]();
    await settle();
    expect(call.written.map((m) => m.answers.map((a) => [a.sequence, a.clientOrderId, a.result?.$case]))).toEqual([
      [
        [1, 'o-1', 'decision'],
        [2, 'o-2', 'decision'],
        [3, 'o-3', 'decision'],
      ],
      [
        [4, 'o-4', 'decision'],
        [5, 'o-5', 'decision'],
      ],
    ]);
  });

  test('a batch of more orders than the in-flight bound: each answered INVALID_ARGUMENT, none decided, and the stream goes on', async () => {
    const { call, decided } = openBatched(10);
    call.sendBatch(orders(1, 11));
    call.sendBatch(orders(12, 10));
    await settle();
    expect(decided).toEqual(orders(12, 10).map((o) => o.clientOrderId));
    const answers = call.written.flatMap((m) => m.answers);
    expect(answers.map((a) => a.sequence)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const refused = answers.slice(0, 11).map((a) => (a.result?.$case === 'error' ? a.result.value : undefined));
    expect(refused.every((e) => e?.code === grpc.status.INVALID_ARGUMENT && e.message.includes('at most 10 per batch'))).toBe(true);
    expect(answers.slice(11).every((a) => a.result?.$case === 'decision')).toBe(true);
  });

  test('answers ready together beyond the per-message cap leave in several messages, in order', async () => {
    const gates: Array<() => void> = [];
    const n = MAX_ANSWERS_PER_MESSAGE + 200;
    const { call } = openBatched(2 * n, () => ({ response: approve, recorded: new Promise<void>((r) => gates.push(r)) }));
    call.sendBatch(orders(0, n));
    await settle();
    gates.forEach((g) => g());
    await settle();
    expect(call.written.map((m) => m.answers.length)).toEqual([MAX_ANSWERS_PER_MESSAGE, 200]);
    expect(call.written.flatMap((m) => m.answers).map((a) => a.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  test('an empty batch is ignored: no answer, no sequence number', async () => {
    const { call } = openBatched(10);
    call.sendBatch([]);
    call.sendBatch([order(1)]);
    await settle();
    expect(call.written.flatMap((m) => m.answers).map((a) => [a.sequence, a.clientOrderId])).toEqual([[1, 'o-1']]);
  });

  test('a peer that never reads: reading stops once a batch reaches the bound, and resumes below half after the drain', async () => {
    const { call } = openBatched(100);
    call.accepting = false;
    let batches = 0;
    while (batches < 1_000 && call.sendBatch(orders(batches * 30, 30))) {
      batches++;
      await settle();
    }
    // The first batch went to gRPC as one message (its buffer then reported full); reading stopped at the
    // batch that took the answers waiting in the stream past the bound of 100 (4 × 30 = 120; 150 read in all).
    expect(batches).toBe(5);
    expect(call.paused).toBe(true);
    expect(call.written.map((m) => m.answers.length)).toEqual([30]);
    call.accepting = true;
    call.emit('drain');
    expect(call.written.flatMap((m) => m.answers).map((a) => a.sequence)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(call.paused).toBe(false);
  });
});
