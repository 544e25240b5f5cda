/** Small EvaluateTradeStream and EvaluateTradeBatchStream clients for the tests: send orders, collect answers, wait for the status. */
import type * as grpc from '@grpc/grpc-js';
import type {
  EvaluateTradeBatchStreamResponse,
  EvaluateTradeStreamRequest,
  EvaluateTradeStreamResponse,
  Order,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import type { Client } from './helpers';

export interface TradeStreamClient {
  readonly answers: EvaluateTradeStreamResponse[];
  /** The final status (OK after a half-close and every answer; an error otherwise). */
  readonly status: Promise<grpc.StatusObject>;
  send(order: Order | undefined): void;
  /** Resolves once `n` answers have arrived; rejects when the stream ends first or after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<EvaluateTradeStreamResponse[]>;
  /** Half-close: no more orders. */
  end(): void;
  cancel(): void;
}

export interface BatchStreamClient extends Omit<TradeStreamClient, 'send'> {
  /** The answer messages as they came (each a batch of answers); `answers` holds them flattened. */
  readonly messages: EvaluateTradeBatchStreamResponse[];
  send(orders: Order[]): void;
}

export function openTradeStream(c: Client): TradeStreamClient {
  const call = c.evaluateTradeStream();
  return {
    ...collect(call, (a: EvaluateTradeStreamResponse) => [a]),
    send: (order) => void call.write({ order } as EvaluateTradeStreamRequest),
  };
}

export function openBatchStream(c: Client): BatchStreamClient {
  const call = c.evaluateTradeBatchStream();
  const messages: EvaluateTradeBatchStreamResponse[] = [];
  const collected = collect(call, (m: EvaluateTradeBatchStreamResponse) => (messages.push(m), m.answers));
  return { ...collected, messages, send: (orders) => void call.write({ orders }) };
}

function collect<M>(
  call: grpc.ClientDuplexStream<never, M>,
  answersOf: (message: M) => EvaluateTradeStreamResponse[],
): Omit<TradeStreamClient, 'send'> {
  const answers: EvaluateTradeStreamResponse[] = [];
  let ended: grpc.StatusObject | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  call.on('data', (m: M) => {
    answers.push(...answersOf(m));
    notify();
  });
  // Errors also arrive as the status; without a listener an error event would throw.
  call.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) =>
    call.on('status', (s: grpc.StatusObject) => {
      ended = s;
      resolve(s);
      notify();
    }),
  );
  return {
    answers,
    status,
    end: () => call.end(),
    cancel: () => call.cancel(),
    waitFor: (n, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (answers.length >= n) done(() => resolve(answers.slice(0, n)));
          else if (ended) done(() => reject(Object.assign(new Error(`stream ended: ${ended!.details}`), { code: ended!.code })));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${answers.length} of ${n} answers within ${timeoutMs} ms`))),
          timeoutMs,
        );
        const done = (fn: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      }),
  };
}
