/**
 * EvaluateTradeStream and EvaluateTradeBatchStream: EvaluateTrade over one bidirectional stream, for
 * OMSs that send thousands of orders a second over one connection. Each order takes exactly the unary
 * path (handlers.ts `decideTrade`: parse, admit, decide, reserve, record) and its answer is written only
 * once its record is durable (`recorded`), as the unary answer is. The two RPCs differ only in their
 * framing: one order and one answer per message, or several (`ONE_PER_MESSAGE`, `BATCHED`).
 *
 * Answers leave in the order the orders came (a FIFO of slots): an answer never overtakes an earlier
 * one still waiting for its fdatasync, and a message without an id is still matched by its sequence.
 *
 * Flow control: at most `maxInFlight` orders per stream are read but not yet handed to gRPC (plus, on
 * the batched RPC, the rest of the batch that crossed it: a batch holds at most `maxInFlight` orders). At
 * the cap the stream stops reading; grpc-js then stops reading the HTTP/2 stream and flow control holds
 * the sender. A reader too slow to take its answers fills gRPC's write buffer ('drain' not yet emitted),
 * which stops the slots from draining, which stops the reading: what one stream holds in memory is
 * bounded whatever the peer does. Reading resumes below half the cap (no pause/resume thrash).
 *
 * A bad order is answered with an `error` (the status the unary call would have answered) and the
 * stream goes on. The stream ends OK once the client half-closes and every answer is written; with
 * UNAVAILABLE when the gate stops (after answering what it had read, within a grace period).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type Caller, callerOf } from './access';
import type {
  EvaluateTradeBatchStreamRequest,
  EvaluateTradeBatchStreamResponse,
  EvaluateTradeResponse,
  EvaluateTradeStreamRequest,
  EvaluateTradeStreamResponse,
  Order,
} from './generated/ballast/gate/v1/gate';
import { type Durable, Refused, toStatus } from './status';

export interface TradeStreamOptions {
  readonly logger: Logger;
  /** Orders read but not yet answered, per stream (default 1 000). */
  readonly maxInFlight?: number;
  /** Concurrent streams beyond this are refused with RESOURCE_EXHAUSTED (default 1 000). */
  readonly maxStreams?: number;
}

export const DEFAULT_STREAM_MAX_IN_FLIGHT = 1_000;
const DEFAULT_MAX_STREAMS = 1_000;

/** What deciding needs of the call besides its caller: whether the caller still listens. */
export type Listening = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>;

/** Decides one order for a caller (handlers.ts `decideTrade`); throws InvalidArgument / Refused. */
export type DecideOrder = (caller: Caller, call: Listening, order: Order | undefined) => Durable<EvaluateTradeResponse>;

/** Throws Refused when the caller may not open a trade stream at all. */
export type AdmitTrader = (caller: Caller) => void;

export type TradeStreamCall = grpc.ServerDuplexStream<EvaluateTradeStreamRequest, EvaluateTradeStreamResponse>;
export type BatchStreamCall = grpc.ServerDuplexStream<EvaluateTradeBatchStreamRequest, EvaluateTradeBatchStreamResponse>;

type Result = NonNullable<EvaluateTradeStreamResponse['result']>;

/** How a trade stream's messages carry orders and answers. */
export interface Framing<Req, Res> {
  /** The orders a message carries, in order (`undefined`: a message that carried none where one was due). */
  orders(message: Req): ReadonlyArray<Order | undefined>;
  /** At most this many ready answers go in one message. */
  readonly answersPerMessage: number;
  message(answers: EvaluateTradeStreamResponse[]): Res;
}

/** EvaluateTradeStream: one order per message (a message without one is answered with an error), one answer per message. */
export const ONE_PER_MESSAGE: Framing<EvaluateTradeStreamRequest, EvaluateTradeStreamResponse> = {
  orders: (m) => [m.order],
  answersPerMessage: 1,
  message: (answers) => answers[0],
};

/**
 * Answers per message on EvaluateTradeBatchStream: keeps a message of denials with their explanations
 * (~0.5 KB each) near 0.5 MB, well inside the 4 MB clients accept by default.
 */
export const MAX_ANSWERS_PER_MESSAGE = 1_000;

/** EvaluateTradeBatchStream: the orders of a batch; the answers ready at once in one message (up to the cap). */
export const BATCHED: Framing<EvaluateTradeBatchStreamRequest, EvaluateTradeBatchStreamResponse> = {
  orders: (m) => m.orders,
  answersPerMessage: MAX_ANSWERS_PER_MESSAGE,
  message: (answers) => ({ answers }),
};

/** The open trade streams of one gate: opening one, and ending them all when the gate stops. */
export class TradeStreams {
  private readonly open = new Set<{ shutdown(graceMs: number): Promise<void> }>();
  private closed = false;

  constructor(private readonly options: TradeStreamOptions) {}

  get count(): number {
    return this.open.size;
  }

  serve<Req, Res>(call: grpc.ServerDuplexStream<Req, Res>, framing: Framing<Req, Res>, admit: AdmitTrader, decide: DecideOrder): void {
    const { logger } = this.options;
    try {
      if (this.closed) throw new Refused(grpc.status.UNAVAILABLE, 'gate stopping');
      if (this.open.size >= (this.options.maxStreams ?? DEFAULT_MAX_STREAMS))
        throw new Refused(grpc.status.RESOURCE_EXHAUSTED, 'too many trade streams on this gate');
      const caller = callerOf(call);
      admit(caller);
      const maxInFlight = this.options.maxInFlight ?? DEFAULT_STREAM_MAX_IN_FLIGHT;
      const stream = new TradeStream(call, framing, caller, decide, maxInFlight, logger, () => this.open.delete(stream));
      this.open.add(stream);
    } catch (err) {
      call.emit('error', toStatus(err, logger));
    }
  }

  /** Stops reading every stream, answers what was read (within `graceMs`), then ends each with UNAVAILABLE. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    await Promise.all([...this.open].map((s) => s.shutdown(graceMs)));
  }
}

/** One order read and not yet answered: its place in the stream and, once known, its answer. */
interface Slot {
  readonly sequence: number;
  readonly portfolioId: string;
  readonly clientOrderId: string;
  result?: Result;
}

class TradeStream<Req, Res> {
  private readonly slots: Slot[] = [];
  private sequence = 0;
  /** gRPC's write buffer is full: write again on 'drain'. */
  private blocked = false;
  private paused = false;
  private flushQueued = false;
  private halfClosed = false;
  private stopping: { resolve: () => void; timer: NodeJS.Timeout } | undefined;
  private ended = false;

  constructor(
    private readonly call: grpc.ServerDuplexStream<Req, Res>,
    private readonly framing: Framing<Req, Res>,
    private readonly caller: Caller,
    private readonly decide: DecideOrder,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
    private readonly onEnd: () => void,
  ) {
    call.on('data', (message: Req) => this.receive(message));
    call.on('end', () => {
      this.halfClosed = true;
      this.flush();
    });
    call.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    // The client went away (cancel, deadline, connection lost) or the call failed: stop at once.
    call.on('cancelled', () => this.stop());
    call.on('error', () => this.stop());
  }

  /** Stops reading, answers what was read, then ends with UNAVAILABLE; gives up waiting after `graceMs`. */
  shutdown(graceMs: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.call.pause();
    this.paused = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end({ code: grpc.status.UNAVAILABLE, details: 'gate stopping' }), graceMs);
      this.stopping = { resolve, timer };
      this.flush();
    });
  }

  private receive(message: Req): void {
    // Read before the stream paused for a shutdown: not decided; the client retries it elsewhere.
    if (this.ended || this.stopping) return;
    const orders = this.framing.orders(message);
    const tooMany = orders.length > this.maxInFlight ? batchTooLarge(orders.length, this.maxInFlight) : undefined;
    for (const order of orders) this.slots.push(tooMany ? this.refused(order, tooMany) : this.decided(order));
    if (this.slots.length >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.call.pause();
    }
    this.flush();
  }

  /** An order decided here: its slot is answered once the decision is durable. */
  private decided(order: Order | undefined): Slot {
    const slot = this.slotFor(order);
    try {
      const out = this.decide(this.caller, this.call, order);
      out.recorded.then(
        () => this.settle(slot, { $case: 'decision', value: out.response }),
        (err: Error) =>
          this.settle(slot, {
            $case: 'error',
            value: { code: grpc.status.UNAVAILABLE, message: `the gate could not record this durably (${err.message}); do not act on it` },
          }),
      );
    } catch (err) {
      slot.result = errorResult(toStatus(err, this.logger));
    }
    return slot;
  }

  /** An order answered with an error without being decided. */
  private refused(order: Order | undefined, status: Partial<grpc.StatusObject>): Slot {
    const slot = this.slotFor(order);
    slot.result = errorResult(status);
    return slot;
  }

  private slotFor(order: Order | undefined): Slot {
    return { sequence: ++this.sequence, portfolioId: order?.portfolioId ?? '', clientOrderId: order?.clientOrderId ?? '' };
  }

  private settle(slot: Slot, result: Result): void {
    slot.result = result;
    // The orders of one durable group settle one after another in this microtask checkpoint: flush
    // once after the last of them, so their answers leave together (one message on the batched RPC).
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Writes every answer at the head that is ready, while gRPC takes them; resumes reading; ends when done. */
  private flush(): void {
    if (this.ended) return;
    while (!this.blocked && this.slots.length > 0 && this.slots[0].result) {
      if (!this.call.write(this.framing.message(this.takeReady()))) this.blocked = true;
    }
    if (this.paused && !this.stopping && !this.blocked && this.slots.length <= this.maxInFlight / 2) {
      this.paused = false;
      this.call.resume();
    }
    if (this.slots.length > 0) return;
    if (this.stopping)
      this.end({ code: grpc.status.UNAVAILABLE, details: 'gate stopping: reconnect and retry unanswered orders by client_order_id' });
    else if (this.halfClosed) {
      this.stop();
      this.call.end();
    }
  }

  /** The answers ready at the head, up to one message's worth, taken out of their slots. */
  private takeReady(): EvaluateTradeStreamResponse[] {
    const answers: EvaluateTradeStreamResponse[] = [];
    while (answers.length < this.framing.answersPerMessage && this.slots.length > 0 && this.slots[0].result) {
      const { sequence, portfolioId, clientOrderId, result } = this.slots.shift()!;
      answers.push({ sequence, portfolioId, clientOrderId, result });
    }
    return answers;
  }

  private end(status: Partial<grpc.StatusObject>): void {
    if (this.ended) return;
    this.stop();
    this.call.emit('error', status);
  }

  private stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.slots.length = 0;
    if (this.stopping) {
      clearTimeout(this.stopping.timer);
      this.stopping.resolve();
    }
    this.onEnd();
  }
}

const errorResult = (status: Partial<grpc.StatusObject>): Result => ({
  $case: 'error',
  value: { code: status.code ?? grpc.status.INTERNAL, message: status.details ?? '' },
});

const batchTooLarge = (orders: number, max: number): Partial<grpc.StatusObject> => ({
  code: grpc.status.INVALID_ARGUMENT,
  details: `a batch of ${orders} orders: at most ${max} per batch on this gate (not decided; send them in smaller batches)`,
});
