/** A small EvaluateTradeStream client for the tests: send orders, collect answers, wait for the status. */
import type * as grpc from '@grpc/grpc-js';
import type { EvaluateTradeStreamRequest, EvaluateTradeStreamResponse, Order } from '../../../grpc/generated/ballast/gate/v1/gate';
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

export function openTradeStream(c: Client): TradeStreamClient {
  const call = c.evaluateTradeStream();
  const answers: EvaluateTradeStreamResponse[] = [];
  let ended: grpc.StatusObject | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  call.on('data', (a: EvaluateTradeStreamResponse) => {
    answers.push(a);
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
    send: (order) => void call.write({ order } as EvaluateTradeStreamRequest),
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
