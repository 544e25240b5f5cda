/**
 * A gate client that calls each portfolio's owner replica directly (docs/gate-ha.md "Clients that
 * route"), as Kafka and Redis Cluster clients do: given the replicas as seeds, it learns a
 * portfolio's owner from the trailing metadata of its first answer (`ballast-owner-address`, sent by
 * a non-owner with a forwarded answer and with an UNAVAILABLE redirect) and sends the portfolio's
 * later calls straight there, saving the forwarding hop.
 *
 * Retries are safe because the three trade RPCs are: EvaluateTrade is idempotent by client order id
 * (the same id and order get the original decision back, also from a replica that took over, which
 * rebuilds the used ids from Postgres), ReportFill by fill id, and SizePosition reads only. Only
 * UNAVAILABLE is retried (the replica did not decide: redirect, dead, deposed, takeover under way);
 * every other status (a DENY is an answer, not an error) goes back to the caller as is.
 *
 * An owner that failed the client (unreachable, deposed, or silent until the deadline) is forgotten
 * and, for SHUN_MS, not learned again from a forwarded answer: when the owner's advertised address
 * (`--peer-address`) cannot be reached from the client, its calls stay on the forwarding replica
 * instead of trying the owner on every call.
 */
import * as grpc from '@grpc/grpc-js';
import { OWNER_ADDRESS_HEADER, type TradeMethod } from './forward';
import {
  type EvaluateTradeRequest,
  type EvaluateTradeResponse,
  GateServiceClient,
  type ReportFillRequest,
  type ReportFillResponse,
  type SizePositionRequest,
  type SizePositionResponse,
} from './generated/ballast/gate/v1/gate';

/** The replicas of a `host:port,host:port,…` list (flags, load targets), blanks dropped. */
export function replicaAddresses(list: string): string[] {
  return list
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

export interface OwnerRoutingOptions {
  /** Every replica the client is given (host:port); calls for a portfolio with no known owner go here, in turn. */
  readonly seeds: readonly string[];
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ClientOptions;
  /** Calls (to any replica) one trade call may make, redirects included. Default 20. */
  readonly maxAttempts?: number;
  /** Deadline of a call when the caller gives none. Default 5 s. */
  readonly defaultDeadlineMs?: number;
}

/** What one attempt at one replica came to. */
type Attempt<Res> =
  /** Decided (APPROVE or DENY alike); `owner` when a non-owner forwarded it and named the owner. */
  | { readonly kind: 'answered'; readonly response: Res; readonly owner: string | undefined }
  /** UNAVAILABLE naming the owner: call it there. */
  | { readonly kind: 'redirected'; readonly owner: string; readonly error: grpc.ServiceError }
  /** UNAVAILABLE without an owner: unreachable, deposed, or no owner yet. Try another replica. */
  | { readonly kind: 'unavailable'; readonly error: grpc.ServiceError }
  /** Any other status: the caller's answer, never retried. */
  | { readonly kind: 'failed'; readonly error: grpc.ServiceError };

const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 500;
const SHUN_MS = 10_000;

type Unary = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => grpc.ClientUnaryCall;

export class OwnerRoutingClient {
  private readonly channels = new Map<string, InstanceType<typeof GateServiceClient>>();
  /** Portfolio → the owner's address, as last learned. */
  private readonly owners = new Map<string, string>();
  /** Owner addresses that failed this client → until when forwarded answers naming them are not believed. */
  private readonly shunned = new Map<string, number>();
  /** The seed calls start at when no owner is known (moves past a seed that did not answer). */
  private next = 0;
  private readonly maxAttempts: number;

  constructor(private readonly options: OwnerRoutingOptions) {
    if (options.seeds.length === 0) throw new Error('OwnerRoutingClient needs at least one seed address');
    this.maxAttempts = options.maxAttempts ?? 20;
  }

  evaluateTrade(request: EvaluateTradeRequest, deadline?: grpc.Deadline): Promise<EvaluateTradeResponse> {
    return this.call('evaluateTrade', request.order?.portfolioId ?? '', request, deadline);
  }

  sizePosition(request: SizePositionRequest, deadline?: grpc.Deadline): Promise<SizePositionResponse> {
    return this.call('sizePosition', request.order?.portfolioId ?? '', request, deadline);
  }

  reportFill(request: ReportFillRequest, deadline?: grpc.Deadline): Promise<ReportFillResponse> {
    return this.call('reportFill', request.portfolioId, request, deadline);
  }

  /** The owner address this client would call for the portfolio (undefined: a seed). */
  ownerOf(portfolioId: string): string | undefined {
    return this.owners.get(portfolioId);
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }

  private async call<Res>(method: TradeMethod, portfolioId: string, request: unknown, deadline?: grpc.Deadline): Promise<Res> {
    const endAt = deadline === undefined ? Date.now() + (this.options.defaultDeadlineMs ?? 5_000) : deadline;
    let target = this.owners.get(portfolioId) ?? this.options.seeds[this.next];
    // Replicas tried since the last pause: going back to one means every choice failed, so wait a little
    // (a takeover takes about a lease TTL) before the next round.
    const tried = new Set<string>();
    let pause = FIRST_PAUSE_MS;
    let last: grpc.ServiceError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (tried.has(target)) {
        tried.clear();
        if (Date.now() + pause >= deadlineMsOf(endAt)) break;
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(2 * pause, MAX_PAUSE_MS);
      }
      tried.add(target);
      const outcome = await this.attempt<Res>(method, target, request, endAt);
      switch (outcome.kind) {
        case 'answered':
          this.shunned.delete(target);
          this.owners.set(portfolioId, outcome.owner && !this.isShunned(outcome.owner) ? outcome.owner : target);
          return outcome.response;
        case 'failed':
          if (outcome.error.code === grpc.status.DEADLINE_EXCEEDED) this.forget(portfolioId, target);
          throw outcome.error;
        case 'redirected':
          last = outcome.error;
          this.owners.set(portfolioId, outcome.owner);
          target = outcome.owner;
          break;
        case 'unavailable':
          last = outcome.error;
          this.forget(portfolioId, target);
          target = this.seedAfter(target, tried);
          break;
      }
    }
    throw last ?? deadlineExceeded(method);
  }

  /** The portfolio's owner failed at `address`: call the seeds, and do not believe hints naming it for a while. */
  private forget(portfolioId: string, address: string): void {
    if (this.owners.get(portfolioId) !== address) return;
    this.owners.delete(portfolioId);
    this.shunned.set(address, Date.now() + SHUN_MS);
  }

  private isShunned(address: string): boolean {
    const until = this.shunned.get(address);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.shunned.delete(address);
    return false;
  }

  /** The next seed after `failed` not tried yet (or, all tried, the first one: a new round after a pause). */
  private seedAfter(failed: string, tried: ReadonlySet<string>): string {
    const seeds = this.options.seeds;
    const at = seeds.indexOf(failed);
    if (at >= 0 && at === this.next) this.next = (at + 1) % seeds.length;
    const from = at >= 0 ? at + 1 : this.next;
    for (let i = 0; i < seeds.length; i++) {
      const seed = seeds[(from + i) % seeds.length];
      if (!tried.has(seed)) return seed;
    }
    return seeds[this.next];
  }

  private attempt<Res>(method: TradeMethod, address: string, request: unknown, deadline: grpc.Deadline): Promise<Attempt<Res>> {
    const client = this.channel(address);
    const fn = client[method] as unknown as Unary;
    return new Promise((resolve) => {
      let outcome: { err: grpc.ServiceError | null; res?: unknown } | undefined;
      let trailers: grpc.Metadata | undefined;
      // grpc-js calls back with the answer, then emits the status with the trailing metadata.
      const settle = (): void => {
        if (!outcome || !trailers) return;
        const { err, res } = outcome;
        if (!err) return resolve({ kind: 'answered', response: res as Res, owner: ownerIn(trailers) });
        if (err.code !== grpc.status.UNAVAILABLE) return resolve({ kind: 'failed', error: err });
        const owner = ownerIn(err.metadata);
        resolve(owner && owner !== address ? { kind: 'redirected', owner, error: err } : { kind: 'unavailable', error: err });
      };
      const call = fn.call(client, request, new grpc.Metadata(), { deadline }, (err, res) => {
        outcome = { err, res };
        settle();
      });
      call.on('status', (status: grpc.StatusObject) => {
        trailers = status.metadata;
        settle();
      });
    });
  }

  private channel(address: string): InstanceType<typeof GateServiceClient> {
    let c = this.channels.get(address);
    if (!c) {
      c = new GateServiceClient(address, this.options.credentials ?? grpc.credentials.createInsecure(), this.options.channelOptions);
      this.channels.set(address, c);
    }
    return c;
  }
}

const ownerIn = (md: grpc.Metadata | undefined): string | undefined => {
  const v = md?.get(OWNER_ADDRESS_HEADER)[0];
  return v ? String(v) : undefined;
};

const deadlineMsOf = (d: grpc.Deadline): number => (d instanceof Date ? d.getTime() : d);

function deadlineExceeded(method: TradeMethod): grpc.ServiceError {
  return Object.assign(new Error(`${method}: no replica answered before the deadline`), {
    code: grpc.status.DEADLINE_EXCEEDED,
    details: 'no replica answered before the deadline',
    metadata: new grpc.Metadata(),
  });
}
