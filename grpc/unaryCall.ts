/** A unary call of a generated grpc-js client as a promise, with a deadline: for clients of the gate (the reference OMS, the load). */
import * as grpc from '@grpc/grpc-js';

/** A generated client's unary method, in its callback form. */
export type UnaryMethod<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: Res) => void,
) => unknown;

/** Calls `method` of `client` with `req`, giving up `deadlineMs` from now; resolves with the answer, rejects with the status. */
export function callUnary<Req, Res>(client: grpc.Client, method: UnaryMethod<Req, Res>, req: Req, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    ),
  );
}
