/**
 * The load runner's throughput covers its whole recording window: a gate that stalls and then answers
 * in a burst must not look fast (it was once timed from the first answer: 10 667 req/s at p50 4 s).
 * Its report counts each denial reason, unary and streamed alike, so an OMS team sees why orders were denied.
 */
import * as grpc from '@grpc/grpc-js';
import {
  Decision,
  type EvaluateTradeBatchStreamRequest,
  type EvaluateTradeBatchStreamResponse,
  type EvaluateTradeRequest,
  EvaluateTradeResponse,
  GateServiceService,
  ReasonCode,
  Side,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { runLoad, runStreamLoad } from '../../../grpc/load';

let server: grpc.Server | undefined;
afterEach(() => server?.forceShutdown());

test('a stall then a burst of answers: throughput is answers over the recording window, not from the first answer', async () => {
  const approve = EvaluateTradeResponse.fromPartial({ decision: Decision.DECISION_APPROVE, budgetVersion: 1 });
  const releaseAt = Date.now() + 1_000;
  const held: Array<() => void> = [];
  setTimeout(() => held.splice(0).forEach((answer) => answer()), releaseAt - Date.now());
  server = new grpc.Server();
  server.addService(GateServiceService, {
    // Every call waits until releaseAt, then all are answered at once; later calls are answered at once.
    evaluateTrade: (_call: grpc.ServerUnaryCall<EvaluateTradeRequest, unknown>, cb: grpc.sendUnaryData<EvaluateTradeResponse>) => {
      if (Date.now() < releaseAt) held.push(() => cb(null, approve));
      else cb(null, approve);
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  const report = await runLoad({
    target: `127.0.0.1:${port}`,
    concurrency: 4,
    connections: 1,
    durationMs: 1_200,
    warmupMs: 100,
    deadlineMs: 5_000,
    mix: { evaluate: 1 },
    order: { portfolioId: 'p1', strategy: 'trend', instrument: 'AAPL', side: Side.SIDE_BUY, quantity: 1, price: 100 },
  });
  expect(report.requests).toBeGreaterThan(4);
  expect(report.latencyUs.max).toBeGreaterThan(800_000); // the stalled calls were recorded with their wait
  // The window runs from the end of the warm-up to the last answer: ≥ the 1.2 s asked for.
  expect(report.durationMs).toBeGreaterThanOrEqual(1_200);
  expect(report.throughputPerSec).toBeLessThanOrEqual(Math.ceil((report.requests / report.durationMs) * 1000));
  expect(report.throughputPerSec).toBeLessThan(report.requests / 1.1);
});

/** A stand-in gate that denies every third order (unknown strategy, and also over the order notional) and approves the rest. */
async function denyingGate(): Promise<string> {
  let n = 0;
  const answer = (): EvaluateTradeResponse =>
    ++n % 3 === 0
      ? EvaluateTradeResponse.fromPartial({
          decision: Decision.DECISION_DENY,
          reasons: [ReasonCode.REASON_CODE_UNKNOWN_STRATEGY, ReasonCode.REASON_CODE_MAX_ORDER_NOTIONAL],
        })
      : EvaluateTradeResponse.fromPartial({ decision: Decision.DECISION_APPROVE });
  server = new grpc.Server();
  server.addService(GateServiceService, {
    evaluateTrade: (_call: unknown, cb: grpc.sendUnaryData<EvaluateTradeResponse>) => cb(null, answer()),
    evaluateTradeBatchStream: (call: grpc.ServerDuplexStream<EvaluateTradeBatchStreamRequest, EvaluateTradeBatchStreamResponse>) => {
      let sequence = 0;
      call.on('data', (m: EvaluateTradeBatchStreamRequest) =>
        call.write({
          answers: m.orders.map((o) => ({
            sequence: ++sequence,
            portfolioId: o.portfolioId,
            clientOrderId: o.clientOrderId,
            result: { $case: 'decision', value: answer() },
          })),
        }),
      );
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  return `127.0.0.1:${port}`;
}

const denyingSpec = {
  durationMs: 300,
  warmupMs: 0,
  deadlineMs: 5_000,
  order: { portfolioId: 'p1', strategy: 'nope', instrument: 'AAPL', side: Side.SIDE_BUY, quantity: 1, price: 100 },
} as const;

test.each([
  ['unary', (target: string) => runLoad({ ...denyingSpec, target, concurrency: 4, connections: 1, mix: { evaluate: 1 } })],
  ['batched stream', (target: string) => runStreamLoad({ ...denyingSpec, target, inFlight: 40, batch: 8 })],
])('%s: every reason of a denial is counted by name', async (_kind, load) => {
  const report = await load(await denyingGate());
  const denied = report.decisions.DENY ?? 0;
  expect(denied).toBeGreaterThan(0);
  expect(report.decisions.APPROVE).toBeGreaterThan(denied);
  expect(report.denialReasons).toEqual({ UNKNOWN_STRATEGY: denied, MAX_ORDER_NOTIONAL: denied });
});
