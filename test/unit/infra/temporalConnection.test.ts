// The closed-connection guard under Temporal's retry interceptor, on a real grpc-js channel: a call
// that fails with a retryable status and whose connection is closed before the retry timer fires
// must reject with CANCELLED instead of throwing "Channel has been shut down" from the timer.
import {
  Client,
  credentials,
  type Interceptor,
  Server,
  ServerCredentials,
  type ServiceError,
  status as GrpcStatus,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { closedConnectionGuard } from '../../../infra/temporalConnection';

const METHOD = '/test.Flaky/Call';
const identity = (b: Buffer) => b;

async function unavailableServer(): Promise<{ server: Server; port: number; calls: () => number }> {
  let calls = 0;
  const server = new Server();
  const handler: UntypedServiceImplementation = {
    Call: (_call: unknown, callback: (err: Partial<ServiceError>) => void) => {
      calls++;
      callback({ code: GrpcStatus.UNAVAILABLE, details: 'try again' });
    },
  };
  server.addService(
    {
      Call: {
        path: METHOD,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    handler,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port, calls: () => calls };
}

function callOnce(client: Client): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(METHOD, identity, identity, Buffer.from('x'), (err, value) => (err ? reject(err) : resolve(value!))),
  );
}

describe('closedConnectionGuard', () => {
  it('turns a retry after close into a CANCELLED rejection, not an uncaught throw', async () => {
    const { server, port, calls } = await unavailableServer();
    const interceptors: Interceptor[] = [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), closedConnectionGuard];
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { interceptors });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const answer = callOnce(client);
      // Wait for the first attempt to fail (the retry is then on a timer of ≥ 100 ms), then close.
      while (calls() === 0) await new Promise((r) => setTimeout(r, 5));
      client.close();
      const err = (await answer.then(
        () => undefined,
        (e: ServiceError) => e,
      )) as ServiceError;
      expect(err?.code).toBe(GrpcStatus.CANCELLED);
      expect(err.details).toMatch(/connection was closed/);
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      server.forceShutdown();
    }
  });

  it('passes calls through untouched while the connection is open', async () => {
    const { server, port, calls } = await unavailableServer();
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { interceptors: [closedConnectionGuard] });
    try {
      await expect(callOnce(client)).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
      expect(calls()).toBe(1);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
