/**
 * Closed-loop load generator for the gate: `concurrency` requests in flight over one or more channels
 * for a fixed duration, a weighted mix of EvaluateTrade and SizePosition, latency recorded in
 * microseconds in an HDR histogram (after a warm-up that is not recorded).
 */
import * as grpc from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import { Decision, type EvaluateTradeStreamResponse, GateServiceClient, type Order, Side } from './generated/ballast/gate/v1/gate';

export type LoadKind = 'evaluate' | 'size';

export interface LoadOptions {
  readonly target: string;
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
}

function loadReport(
  target: string,
  concurrency: number,
  elapsedMs: number,
  requests: number,
  histogram: hdr.Histogram,
  errors: Record<string, number>,
  decisions: Record<string, number>,
): LoadReport {
  const throughputPerSec = Math.round((requests / elapsedMs) * 1000);
  return { target, concurrency, durationMs: elapsedMs, requests, throughputPerSec, latencyUs: summarize(histogram), errors, decisions };
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
  const clients = Array.from(
    { length: Math.max(1, options.connections) },
    (_, i) =>
      // Distinct channel options keep grpc-js from sharing one subchannel across the clients.
      new GateServiceClient(options.target, options.credentials ?? grpc.credentials.createInsecure(), { 'grpc.ballast_channel': i }),
  );
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  const decisions: Record<string, number> = {};
  const evaluateShare = (options.mix.evaluate ?? 0) / ((options.mix.evaluate ?? 0) + (options.mix.size ?? 0));
  const prefix = `load-${process.pid}-${Date.now().toString(36)}-`;
  let seq = 0;
  let recorded = 0;
  const start = Date.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;
  let measuredStart = 0;

  const one = (client: InstanceType<typeof GateServiceClient>): Promise<void> =>
    new Promise((resolve) => {
      const n = ++seq;
      const evaluate = (n * 0.618033988749895) % 1 < evaluateShare; // low-discrepancy, deterministic mix
      const t0 = process.hrtime.bigint();
      const deadline = { deadline: Date.now() + options.deadlineMs };
      const done = (err: grpc.ServiceError | null, decision: string): void => {
        const now = Date.now();
        if (now >= recordFrom) {
          if (measuredStart === 0) measuredStart = now;
          if (err) errors[grpc.status[err.code]] = (errors[grpc.status[err.code]] ?? 0) + 1;
          else {
            histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
            decisions[decision] = (decisions[decision] ?? 0) + 1;
          }
          recorded++;
        }
        resolve();
      };
      if (evaluate) {
        const order = { ...options.order, clientOrderId: prefix + n };
        client.evaluateTrade({ order }, new grpc.Metadata(), deadline, (err, res) =>
          done(err, res ? (res.decision === Decision.DECISION_APPROVE ? 'APPROVE' : 'DENY') : ''),
        );
      } else {
        client.sizePosition({ order: { ...options.order, clientOrderId: '' } }, new grpc.Metadata(), deadline, (err) => done(err, 'SIZE'));
      }
    });

  const progress = onProgress ? setInterval(() => onProgress(recorded), 500) : undefined;
  const worker = async (i: number): Promise<void> => {
    const client = clients[i % clients.length];
    while (Date.now() < stopAt) await one(client);
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  if (progress) clearInterval(progress);
  const elapsed = Date.now() - (measuredStart || recordFrom);
  clients.forEach((c) => c.close());
  return loadReport(options.target, options.concurrency, elapsed, recorded, histogram, errors, decisions);
}

export const defaultLoadOrder = (portfolioId: string): Omit<Order, 'clientOrderId'> => ({
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_BUY,
  quantity: 1,
  price: 100,
});

export interface StreamLoadOptions extends Omit<LoadOptions, 'mix' | 'connections' | 'concurrency'> {
  /** Orders sent and not yet answered on the stream (the client's own window). */
  readonly inFlight: number;
}

/**
 * EvaluateTradeStream load: one stream on one connection keeping `inFlight` orders unanswered, a new
 * order sent for each answer. Latency per order: from its write to its answer. Same report as runLoad.
 */
export async function runStreamLoad(options: StreamLoadOptions): Promise<LoadReport> {
  const client = new GateServiceClient(options.target, options.credentials ?? grpc.credentials.createInsecure());
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  const decisions: Record<string, number> = {};
  const prefix = `stream-${process.pid}-${Date.now().toString(36)}-`;
  const sentAt = new Map<number, bigint>();
  const start = Date.now();
  const recordFrom = start + options.warmupMs;
  const stopAt = recordFrom + options.durationMs;
  let seq = 0;
  let recorded = 0;
  let measuredStart = 0;
  const call = client.evaluateTradeStream({ deadline: stopAt + options.deadlineMs });
  const send = (): void => {
    const n = ++seq;
    sentAt.set(n, process.hrtime.bigint());
    call.write({ order: { ...options.order, clientOrderId: prefix + n } });
  };
  const ended = new Promise<void>((resolve) => {
    call.on('data', (a: EvaluateTradeStreamResponse) => {
      const now = Date.now();
      const t0 = sentAt.get(a.sequence);
      sentAt.delete(a.sequence);
      if (now >= recordFrom && t0 !== undefined) {
        if (measuredStart === 0) measuredStart = now;
        if (a.result?.$case === 'decision') {
          histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
          const d = a.result.value.decision === Decision.DECISION_APPROVE ? 'APPROVE' : 'DENY';
          decisions[d] = (decisions[d] ?? 0) + 1;
        } else {
          const code = grpc.status[a.result?.value.code ?? grpc.status.UNKNOWN] ?? 'UNKNOWN';
          errors[code] = (errors[code] ?? 0) + 1;
        }
        recorded++;
      }
      if (now < stopAt) send();
      else if (sentAt.size === 0) call.end();
    });
    call.on('error', (err: grpc.ServiceError) => {
      errors[grpc.status[err.code]] = (errors[grpc.status[err.code]] ?? 0) + 1;
    });
    call.on('status', () => resolve());
  });
  for (let i = 0; i < options.inFlight; i++) send();
  await ended;
  const elapsed = Date.now() - (measuredStart || recordFrom);
  client.close();
  return loadReport(options.target, options.inFlight, elapsed, recorded, histogram, errors, decisions);
}
