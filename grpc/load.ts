/**
 * Closed-loop load generator for the gate: `concurrency` requests in flight over one or more channels
 * for a fixed duration, a weighted mix of EvaluateTrade and SizePosition, latency recorded in
 * microseconds in an HDR histogram (after a warm-up that is not recorded).
 */
import * as grpc from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import {
  Decision,
  type EvaluateTradeBatchStreamResponse,
  type EvaluateTradeResponse,
  type EvaluateTradeStreamResponse,
  GateServiceClient,
  type GetCurrentBudgetResponse,
  type Order,
  reasonCodeToJSON,
  Side,
} from './generated/ballast/gate/v1/gate';
import { OwnerRoutingClient, replicaAddresses } from './ownerRouting';
import { callUnary } from './unaryCall';

export type LoadKind = 'evaluate' | 'size';

export interface LoadOptions {
  /** The gate (host:port), or a comma list of replicas: spread over the channels, or the seeds of `routeToOwner`. */
  readonly target: string;
  /**
   * Call each portfolio's owner replica directly (grpc/ownerRouting.ts): the targets are seeds, the
   * owner is learned from the first answer. Off: each channel calls its target as is (a single gate,
   * or measuring the forwarded path).
   */
  readonly routeToOwner?: boolean;
  readonly channelOptions?: grpc.ClientOptions;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Relative weights, e.g. { evaluate: 80, size: 20 }. */
  readonly mix: Readonly<Partial<Record<LoadKind, number>>>;
  readonly connections: number;
  readonly order: Omit<Order, 'clientOrderId'>;
  readonly credentials?: grpc.ChannelCredentials;
  readonly deadlineMs: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface LoadReport {
  readonly target: string;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly throughputPerSec: number;
  /** Microseconds, client-observed, successful calls only. */
  readonly latencyUs: LatencySummary;
  readonly errors: Readonly<Record<string, number>>;
  readonly decisions: Readonly<Record<string, number>>;
  /** How often each reason came with a DENY (a denial with several reasons counts once for each). */
  readonly denialReasons: Readonly<Record<string, number>>;
}

/** An answer as the load counts it: an EvaluateTrade decision, or a SizePosition answer. */
type Answer = Pick<EvaluateTradeResponse, 'decision' | 'reasons'> | 'SIZE';

/** What the recorded answers came to: failed calls by status, decisions by kind, denials by reason. */
class Tally {
  readonly errors: Record<string, number> = {};
  readonly decisions: Record<string, number> = {};
  readonly denialReasons: Record<string, number> = {};

  failed(code: grpc.status): void {
    const name = grpc.status[code] ?? 'UNKNOWN';
    this.errors[name] = (this.errors[name] ?? 0) + 1;
  }

  answered(answer: Answer): void {
    const kind = answer === 'SIZE' ? 'SIZE' : answer.decision === Decision.DECISION_APPROVE ? 'APPROVE' : 'DENY';
    this.decisions[kind] = (this.decisions[kind] ?? 0) + 1;
    if (kind !== 'DENY' || answer === 'SIZE') return;
    for (const code of answer.reasons) {
      const reason = reasonCodeToJSON(code).replace(/^REASON_CODE_/, '');
      this.denialReasons[reason] = (this.denialReasons[reason] ?? 0) + 1;
    }
  }
}

function loadReport(
  target: string,
  concurrency: number,
  elapsedMs: number,
  requests: number,
  histogram: hdr.Histogram,
  tally: Tally,
): LoadReport {
  const throughputPerSec = Math.round((requests / elapsedMs) * 1000);
  const { errors, decisions, denialReasons } = tally;
  return {
    target,
    concurrency,
    durationMs: elapsedMs,
    requests,
    throughputPerSec,
    latencyUs: summarize(histogram),
    errors,
    decisions,
    denialReasons,
  };
}

export function parseMix(text: string): Partial<Record<LoadKind, number>> {
  const mix: Partial<Record<LoadKind, number>> = {};
  for (const part of text.split(',')) {
    const [name, weight] = part.split('=');
    const w = Number(weight ?? '1');
    if ((name !== 'evaluate' && name !== 'size') || !(w >= 0) || !Number.isFinite(w)) {
      throw new Error(`mix entry "${part}" must be evaluate=<weight> or size=<weight>`);
    }
    mix[name] = w;
  }
  if (!Object.values(mix).some((w) => (w ?? 0) > 0)) throw new Error('mix needs at least one positive weight');
  return mix;
}

export function summarize(h: hdr.Histogram): LatencySummary {
  return {
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean * 10) / 10,
  };
}

export async function runLoad(options: LoadOptions, onProgress?: (done: number) => void): Promise<LoadReport> {
  const targets = replicaAddresses(options.target);
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  // Distinct channel options keep grpc-js from sharing one subchannel across the clients.
  const channelOptions = (i: number): grpc.ClientOptions => ({ ...options.channelOptions, 'grpc.ballast_channel': i });
  const clients: Sender[] = Array.from({ length: Math.max(1, options.connections) }, (_, i) =>
    options.routeToOwner
      ? routedSender(new OwnerRoutingClient({ seeds: targets, credentials, channelOptions: channelOptions(i) }))
      : plainSender(new GateServiceClient(targets[i % targets.length], credentials, channelOptions(i))),
  );
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const tally = new Tally();
  const evaluateShare = (options.mix.evaluate ?? 0) / ((options.mix.evaluate ?? 0) + (options.mix.size ?? 0));
  const prefix = `load-${process.pid}-${Date.now().toString(36)}-`;
  let seq = 0;
  let recorded = 0;
  const start = Date.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;

  const one = (client: Sender): Promise<void> =>
    new Promise((resolve) => {
      const n = ++seq;
      const evaluate = (n * 0.618033988749895) % 1 < evaluateShare; // low-discrepancy, deterministic mix
      const t0 = process.hrtime.bigint();
      const deadline = Date.now() + options.deadlineMs;
      const done = (err: grpc.ServiceError | null, answer: Answer | undefined): void => {
        const now = Date.now();
        if (now >= recordFrom) {
          if (err || !answer) tally.failed(err?.code ?? grpc.status.UNKNOWN);
          else {
            histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
            tally.answered(answer);
          }
          recorded++;
        }
        resolve();
      };
      const order = { ...options.order, clientOrderId: evaluate ? prefix + n : '' };
      client.send(evaluate ? 'evaluate' : 'size', order, deadline, done);
    });

  const progress = onProgress ? setInterval(() => onProgress(recorded), 500) : undefined;
  const worker = async (i: number): Promise<void> => {
    const client = clients[i % clients.length];
    while (Date.now() < stopAt) await one(client);
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  if (progress) clearInterval(progress);
  // The whole recording window, up to the last answer: timing from the first answer instead inflated
  // throughput whenever answers came in a burst after a stall.
  const elapsed = Date.now() - recordFrom;
  clients.forEach((c) => c.close());
  return loadReport(targets.join(','), options.concurrency, elapsed, recorded, histogram, tally);
}

/** One load channel: a plain client of one replica, or a client that routes to each portfolio's owner. */
interface Sender {
  send(kind: LoadKind, order: Order, deadline: number, done: (err: grpc.ServiceError | null, answer: Answer | undefined) => void): void;
  close(): void;
}

function plainSender(client: InstanceType<typeof GateServiceClient>): Sender {
  return {
    send: (kind, order, deadline, done) =>
      kind === 'evaluate'
        ? client.evaluateTrade({ order }, new grpc.Metadata(), { deadline }, (err, res) => done(err, res))
        : client.sizePosition({ order }, new grpc.Metadata(), { deadline }, (err) => done(err, 'SIZE')),
    close: () => client.close(),
  };
}

function routedSender(client: OwnerRoutingClient): Sender {
  const failed = (done: (err: grpc.ServiceError, answer: undefined) => void) => (err: grpc.ServiceError) => done(err, undefined);
  return {
    send: (kind, order, deadline, done) =>
      void (kind === 'evaluate'
        ? client.evaluateTrade({ order }, deadline).then((res) => done(null, res), failed(done))
        : client.sizePosition({ order }, deadline).then(() => done(null, 'SIZE'), failed(done))),
    close: () => client.close(),
  };
}

export const defaultLoadOrder = (portfolioId: string): Omit<Order, 'clientOrderId'> => ({
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_BUY,
  quantity: 1,
  price: 100,
});

/** The order's fields the caller chose; what is left out is taken from the portfolio's budget. */
export interface LoadOrderChoice {
  readonly strategy?: string;
  readonly instrument?: string;
  readonly price?: number;
}

/**
 * The strategy, instrument and price of a load's orders, filled in from the portfolio's current budget
 * (GetCurrentBudget): its first (strategy, asset) pair matching what was chosen, with room under its
 * position limit, at its reference price (the collar's centre). Throws when the gate has no such pair.
 */
export async function orderFromBudget(
  target: string,
  credentials: grpc.ChannelCredentials | undefined,
  portfolioId: string,
  chosen: LoadOrderChoice,
): Promise<{ strategy: string; instrument: string; price: number; budgetVersion: number }> {
  const client = new GateServiceClient(target, credentials ?? grpc.credentials.createInsecure());
  try {
    const response: GetCurrentBudgetResponse = await callUnary(client, client.getCurrentBudget, { portfolioId }, 10_000);
    const pair = response.budget?.assets.find(
      (a) =>
        a.maxPositionNotional > 0 &&
        a.referencePrice > 0 &&
        (chosen.strategy === undefined || a.strategy === chosen.strategy) &&
        (chosen.instrument === undefined || a.asset === chosen.instrument),
    );
    if (!pair)
      throw new Error(`budget v${response.budgetVersion} of ${portfolioId} has no pair with room matching ${JSON.stringify(chosen)}`);
    return {
      strategy: pair.strategy,
      instrument: pair.asset,
      price: chosen.price ?? pair.referencePrice,
      budgetVersion: response.budgetVersion,
    };
  } finally {
    client.close();
  }
}

export interface StreamLoadOptions extends Omit<LoadOptions, 'mix' | 'connections' | 'concurrency'> {
  /** Orders sent and not yet answered on the stream (the client's own window). */
  readonly inFlight: number;
  /** Up to this many orders per message on EvaluateTradeBatchStream; absent: EvaluateTradeStream, one per message. */
  readonly batch?: number;
}

/** One trade stream as the load sees it: orders out, answers in, whatever the framing. */
interface LoadStream {
  send(orders: Order[]): void;
  /** The call itself, for its status, errors and half-close. */
  readonly call: NodeJS.EventEmitter & { end(): void };
  onAnswers(handle: (answers: readonly EvaluateTradeStreamResponse[]) => void): void;
}

function openLoadStream(client: GateServiceClient, deadline: number, batch: number | undefined): LoadStream {
  if (batch === undefined) {
    const call = client.evaluateTradeStream({ deadline });
    return {
      call,
      send: (orders) => orders.forEach((order) => call.write({ order })),
      onAnswers: (handle) => call.on('data', (a: EvaluateTradeStreamResponse) => handle([a])),
    };
  }
  const call = client.evaluateTradeBatchStream({ deadline });
  return {
    call,
    send: (orders) => {
      for (let i = 0; i < orders.length; i += batch) call.write({ orders: orders.slice(i, i + batch) });
    },
    onAnswers: (handle) => call.on('data', (m: EvaluateTradeBatchStreamResponse) => handle(m.answers)),
  };
}

/**
 * Trade stream load: one stream on one connection keeping `inFlight` orders unanswered, a new order
 * sent for each answer (packed up to `batch` to a message on the batched RPC). Latency per order: from
 * its write to its answer. Same report as runLoad.
 */
export async function runStreamLoad(options: StreamLoadOptions, onProgress?: (done: number) => void): Promise<LoadReport> {
  const client = new GateServiceClient(options.target, options.credentials ?? grpc.credentials.createInsecure());
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const tally = new Tally();
  const prefix = `stream-${process.pid}-${Date.now().toString(36)}-`;
  const sentAt = new Map<number, bigint>();
  const start = Date.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;
  let seq = 0;
  let recorded = 0;
  const stream = openLoadStream(client, stopAt + options.deadlineMs, options.batch);
  const send = (count: number): void => {
    const now = process.hrtime.bigint();
    const orders: Order[] = [];
    for (let i = 0; i < count; i++) {
      const n = ++seq;
      sentAt.set(n, now);
      orders.push({ ...options.order, clientOrderId: prefix + n });
    }
    stream.send(orders);
  };
  const record = (a: EvaluateTradeStreamResponse, now: number): void => {
    const t0 = sentAt.get(a.sequence);
    sentAt.delete(a.sequence);
    if (now < recordFrom || t0 === undefined) return;
    if (a.result?.$case === 'decision') {
      histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
      tally.answered(a.result.value);
    } else tally.failed(a.result?.value.code ?? grpc.status.UNKNOWN);
    recorded++;
  };
  const ended = new Promise<void>((resolve) => {
    stream.onAnswers((answers) => {
      const now = Date.now();
      for (const a of answers) record(a, now);
      if (now < stopAt) send(answers.length);
      else if (sentAt.size === 0) stream.call.end();
    });
    stream.call.on('error', (err: grpc.ServiceError) => tally.failed(err.code));
    stream.call.on('status', () => resolve());
  });
  const progress = onProgress ? setInterval(() => onProgress(recorded), 500) : undefined;
  send(options.inFlight);
  await ended;
  if (progress) clearInterval(progress);
  // The whole recording window, up to the last answer: timing from the first answer instead inflated
  // throughput whenever answers came in a burst after a stall.
  const elapsed = Date.now() - recordFrom;
  client.close();
  return loadReport(options.target, options.inFlight, elapsed, recorded, histogram, tally);
}
