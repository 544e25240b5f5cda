/**
 * Gate HA routing of the trade RPCs (docs/gate-ha.md): a call for a portfolio this replica does not
 * own is forwarded to the owner (one hop, the caller's deadline and identity carried along), or,
 * without a peer client, refused UNAVAILABLE with the owner in the trailing metadata.
 *
 * The owner believes the forwarded identity only from a verified peer identity (`peerIdentities`);
 * the forwarding replica has already authorised the original caller under the same access policy.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Caller } from './access';
import { GateServiceClient } from './generated/ballast/gate/v1/gate';
import type { PeerClient, Route } from './ha';
import { deadlineMs, Refused, toStatus, trailersOf } from './status';

/** Trailing metadata of a redirect: the owner replica and where to reach it. */
export const OWNER_HEADER = 'ballast-owner';
export const OWNER_ADDRESS_HEADER = 'ballast-owner-address';
const FORWARDED_IDENTITY = 'x-ballast-forwarded-identity';
const FORWARDED_LABEL = 'x-ballast-forwarded-label';

export type TradeMethod = 'evaluateTrade' | 'sizePosition' | 'reportFill';

export interface Routing {
  route(portfolioId: string): Route;
  readonly forwarder: PeerForwarder | undefined;
  /** Verified identities allowed to forward a caller's identity. */
  readonly peerIdentities: ReadonlySet<string>;
  /** No access policy (loopback development): forwarded labels are believed for the audit trail. */
  readonly open: boolean;
}

export class PeerForwarder {
  private readonly clients = new Map<string, InstanceType<typeof GateServiceClient>>();

  constructor(private readonly peer: PeerClient) {}

  forward<Res>(method: TradeMethod, address: string, request: unknown, caller: Caller, deadline: grpc.Deadline): Promise<Res> {
    const metadata = new grpc.Metadata();
    metadata.set(FORWARDED_IDENTITY, caller.identity ?? '');
    metadata.set(FORWARDED_LABEL, caller.label);
    const client = this.client(address);
    const fn = client[method].bind(client) as unknown as (
      req: unknown,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => void;
    return new Promise((resolve, reject) => fn(request, metadata, { deadline }, (err, res) => (err ? reject(err) : resolve(res))));
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(address: string): InstanceType<typeof GateServiceClient> {
    let c = this.clients.get(address);
    if (!c) {
      c = new GateServiceClient(address, this.peer.credentials, this.peer.options);
      this.clients.set(address, c);
    }
    return c;
  }
}

/** True when the call was forwarded by another replica (it is never forwarded again). */
export const wasForwarded = (call: { metadata: grpc.Metadata }): boolean => call.metadata.get(FORWARDED_LABEL).length > 0;

/** The caller a forwarded call acts for, when the direct caller is a peer this gate believes; else the direct caller. */
export function forwardedCaller(routing: Routing | undefined, call: { metadata: grpc.Metadata }, direct: Caller): Caller {
  if (!routing || !wasForwarded(call)) return direct;
  const trusted = direct.identity ? routing.peerIdentities.has(direct.identity) : routing.open;
  if (!trusted) return direct;
  const identity = String(call.metadata.get(FORWARDED_IDENTITY)[0] ?? '') || undefined;
  const label = String(call.metadata.get(FORWARDED_LABEL)[0] ?? '').slice(0, 200);
  return { identity, label: `${label} via ${direct.label}` };
}

/**
 * The refusal for a call this replica does not decide: UNAVAILABLE, naming the owner (also in the
 * trailing metadata) so the client can call it there, or saying why no replica decides now.
 */
export function notDecidedHere(route: Exclude<Route, { kind: 'local' }>): Refused {
  if (route.kind === 'unavailable') return new Refused(grpc.status.UNAVAILABLE, route.why);
  return new Refused(
    grpc.status.UNAVAILABLE,
    `portfolio decided by replica ${route.owner} at ${route.address}: call it there`,
    ownerHint(route),
  );
}

/** The owner hint, as trailing metadata of a redirect and of every answer a non-owner forwarded. */
const ownerHint = (route: { readonly owner: string; readonly address: string }): Record<string, string> => ({
  [OWNER_HEADER]: route.owner,
  [OWNER_ADDRESS_HEADER]: route.address,
});

/**
 * Wraps a trade handler: decided here when this replica owns the portfolio, else forwarded (once)
 * or refused UNAVAILABLE naming the owner. A forwarded answer carries the owner hint in its trailing
 * metadata, so a client that routes (grpc/ownerRouting.ts) calls the owner directly from then on.
 */
export function routed<Req, Res>(
  routing: Routing | undefined,
  method: TradeMethod,
  portfolioOf: (req: Req) => string,
  authorize: (call: grpc.ServerUnaryCall<Req, Res>) => Caller,
  local: grpc.handleUnaryCall<Req, Res>,
  logger: Logger,
): grpc.handleUnaryCall<Req, Res> {
  if (!routing) return local;
  return (call, callback) => {
    const route = routing.route(portfolioOf(call.request));
    if (route.kind === 'local') return local(call, callback);
    let caller: Caller;
    try {
      caller = authorize(call);
      if (route.kind === 'unavailable' || !routing.forwarder || wasForwarded(call)) throw notDecidedHere(route);
    } catch (err) {
      callback(toStatus(err, logger));
      return;
    }
    const deadline = call.getDeadline();
    const finite = Number.isFinite(deadlineMs(deadline)) ? deadline : Date.now() + 30_000;
    routing.forwarder.forward<Res>(method, route.address, call.request, caller, finite).then(
      (res) => callback(null, res, trailersOf(ownerHint(route))),
      (err: grpc.ServiceError) =>
        callback({ code: err.code ?? grpc.status.UNAVAILABLE, details: err.details ?? err.message, metadata: err.metadata }),
    );
  };
}
