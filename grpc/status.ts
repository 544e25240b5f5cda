/**
 * How a handler's outcome becomes a gRPC answer. Handlers return a response or throw one of the two
 * errors below; `unary` / `unaryAsync` bind them to grpc-js and map errors to statuses. Anything else
 * thrown is a bug: logged at error level and answered INTERNAL without detail.
 *
 * A DENY is not an error: it is a normal response (status OK, decision DENY, reason codes).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** The request is malformed: INVALID_ARGUMENT, with a sentence naming what is wrong. */
export class InvalidArgument extends Error {
  override readonly name = 'InvalidArgument';
}

/** The gate will not act on a well-formed request (not allowed, not ready, not wired): no decision made. */
export class Refused extends Error {
  override readonly name = 'Refused';
  constructor(
    readonly code: RefusalCode,
    message: string,
    /** Trailing metadata for the caller (e.g. the owner replica of a redirect, grpc/forward.ts). */
    readonly trailers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** The statuses a handler may refuse with; see docs/gate.md for when each is used. */
export type RefusalCode =
  | grpc.status.PERMISSION_DENIED
  | grpc.status.NOT_FOUND
  | grpc.status.UNAVAILABLE
  | grpc.status.RESOURCE_EXHAUSTED
  | grpc.status.FAILED_PRECONDITION
  | grpc.status.DEADLINE_EXCEEDED
  | grpc.status.ALREADY_EXISTS;

export function toStatus(err: unknown, logger: Logger): Partial<grpc.ServiceError> {
  if (err instanceof InvalidArgument) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof Refused) return { code: err.code, details: err.message, ...(err.trailers && { metadata: trailersOf(err.trailers) }) };
  logger.error({ err }, 'gate handler failed');
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** Trailing metadata from name → value pairs (a refusal's, or a forwarded answer's owner hint). */
export function trailersOf(trailers: Readonly<Record<string, string>>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(trailers)) md.set(k, v);
  return md;
}

/** Binds a synchronous handler (the hot path: no awaits between request and answer). */
export function unary<Req, Res>(logger: Logger, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let response: Res;
    try {
      response = fn(call);
    } catch (err) {
      callback(toStatus(err, logger));
      return;
    }
    callback(null, response);
  };
}

/** A response that may be sent once `recorded` resolves (its decision or fill is durable). */
export interface Durable<Res> {
  readonly response: Res;
  readonly recorded: Promise<void>;
}

/**
 * Binds a handler that decides synchronously (the hot path: no awaits before the decision) and
 * answers once what it decided is durable in the spool. A record that could not be made durable is
 * answered UNAVAILABLE: the caller must not act on a decision the gate could not keep.
 */
export function unaryDurable<Req, Res>(
  logger: Logger,
  fn: (call: grpc.ServerUnaryCall<Req, Res>) => Durable<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let out: Durable<Res>;
    try {
      out = fn(call);
    } catch (err) {
      callback(toStatus(err, logger));
      return;
    }
    out.recorded.then(
      () => callback(null, out.response),
      (err: Error) =>
        callback({ code: grpc.status.UNAVAILABLE, details: `the gate could not record this durably (${err.message}); do not act on it` }),
    );
  };
}

/** Binds an async handler (a port call); it answers DEADLINE_EXCEEDED itself if the deadline passes first. */
export function unaryAsync<Req, Res>(
  logger: Logger,
  fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let done = false;
    const finish = (err: Partial<grpc.ServiceError> | null, res?: Res): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err, res);
    };
    const at = deadlineMs(call.getDeadline());
    const timer = Number.isFinite(at)
      ? setTimeout(() => finish({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded' }), Math.max(0, at - Date.now()))
      : undefined;
    fn(call).then(
      (res) => finish(null, res),
      (err) => finish(toStatus(err, logger)),
    );
  };
}

/** A call's deadline in epoch ms (Infinity when it has none). */
export function deadlineMs(deadline: grpc.Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
