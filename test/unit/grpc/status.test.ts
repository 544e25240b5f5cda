/** Errors → gRPC statuses, and the grpc-js binding of sync and async handlers. */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { InvalidArgument, Refused, toStatus, unary, unaryAsync } from '../../../grpc/status';

const logged: unknown[] = [];
const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
beforeEach(() => logged.splice(0));

test('InvalidArgument is INVALID_ARGUMENT with its sentence', () => {
  expect(toStatus(new InvalidArgument('order.quantity must be a finite number, got NaN'), logger)).toEqual({
    code: grpc.status.INVALID_ARGUMENT,
    details: 'order.quantity must be a finite number, got NaN',
  });
  expect(logged).toEqual([]);
});

test.each([
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAVAILABLE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.DEADLINE_EXCEEDED,
] as const)('Refused carries its status %s and message', (code) => {
  expect(toStatus(new Refused(code, 'no'), logger)).toEqual({ code, details: 'no' });
  expect(logged).toEqual([]);
});

test('anything else is a bug: INTERNAL without detail, logged at error level', () => {
  expect(toStatus(new TypeError('x is undefined'), logger)).toEqual({ code: grpc.status.INTERNAL, details: 'internal error' });
  expect(logged).toMatchObject([{ level: 50, msg: 'gate handler failed', err: { message: 'x is undefined' } }]);
});

/** A stand-in unary call with a deadline `ms` from now (or none). */
const callWith = (deadlineMs?: number) =>
  ({ request: {}, getDeadline: () => (deadlineMs === undefined ? Infinity : new Date(Date.now() + deadlineMs)) }) as never;
const answer = (handler: grpc.handleUnaryCall<unknown, unknown>, call: never) =>
  new Promise<[Partial<grpc.ServiceError> | null, unknown]>((resolve) =>
    handler(call, ((err: never, res: unknown) => resolve([err, res])) as never),
  );

test('unary answers the handler result, or the status of what it threw', async () => {
  expect(
    await answer(
      unary(logger, () => ({ ok: true })),
      callWith(),
    ),
  ).toEqual([null, { ok: true }]);
  const [err] = await answer(
    unary(logger, () => {
      throw new InvalidArgument('side must be SIDE_BUY or SIDE_SELL, got 7');
    }),
    callWith(),
  );
  expect(err).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'side must be SIDE_BUY or SIDE_SELL, got 7' });
});

test('unaryAsync maps a rejection and stops waiting at the deadline', async () => {
  const [refused] = await answer(
    unaryAsync(logger, () => Promise.reject(new Refused(grpc.status.FAILED_PRECONDITION, 'no port'))),
    callWith(),
  );
  expect(refused).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'no port' });
  const never = new Promise<never>(() => undefined);
  const [late] = await answer(
    unaryAsync(logger, () => never),
    callWith(20),
  );
  expect(late).toEqual({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded' });
});
