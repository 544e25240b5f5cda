/**
 * The one way Ballast opens a Temporal *client* connection (workers use NativeConnection).
 *
 * Why not `Connection.connect` directly: the client's gRPC retry interceptor schedules a retry on a
 * timer, and if the connection is closed before the timer fires (a command finishing while a call of
 * a `Promise.all` is still failing over, a process shutting down) the retry calls into the closed
 * channel, which *throws* from the timer — an uncaught exception that kills the process. The guard
 * below sits under the retry interceptor and turns that throw into a CANCELLED status, which the
 * retry interceptor does not retry, so the pending call rejects like any failed call.
 */
import { Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import {
  InterceptingCall,
  type InterceptingListener,
  type Interceptor,
  Metadata,
  type NextCall,
  status as GrpcStatus,
} from '@grpc/grpc-js';

/** What an interceptor's `nextCall` returns (grpc-js does not export the interface by name). */
type InterceptingCallInterface = ReturnType<NextCall>;

const CHANNEL_SHUT_DOWN = 'Channel has been shut down';

/** A call on a closed connection: it ends at once with CANCELLED and sends nothing. */
function closedConnectionCall(): InterceptingCallInterface {
  return {
    start(_metadata: Metadata, listener?: Partial<InterceptingListener>) {
      process.nextTick(() =>
        listener?.onReceiveStatus?.({
          code: GrpcStatus.CANCELLED,
          details: 'the Temporal connection was closed before this call could be (re)tried',
          metadata: new Metadata(),
        }),
      );
    },
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    sendMessageWithContext: () => undefined,
    sendMessage: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    getAuthContext: () => null,
  };
}

/** Under the retry interceptor: a call (first try or retry) on a closed channel fails instead of throwing. */
export const closedConnectionGuard: Interceptor = (options, nextCall) => {
  let next: InterceptingCallInterface;
  try {
    next = nextCall(options);
  } catch (err) {
    if (!(err instanceof Error) || err.message !== CHANNEL_SHUT_DOWN) throw err;
    next = closedConnectionCall();
  }
  return new InterceptingCall(next);
};

/** Client connection options with Temporal's default retries over the closed-connection guard. */
export function guardedClientOptions(options: ConnectionOptions): ConnectionOptions {
  return { ...options, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), closedConnectionGuard] };
}

export const connectTemporalClient = (options: ConnectionOptions): Promise<Connection> => Connection.connect(guardedClientOptions(options));

export const lazyTemporalClient = (options: ConnectionOptions): Connection => Connection.lazy(guardedClientOptions(options));
