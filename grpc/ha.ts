/**
 * Gate HA (docs/gate-ha.md): one owner replica per portfolio, chosen through a lease row in Postgres
 * with a fencing token. The owner decides in memory as a single gate does; other replicas forward
 * the portfolio's trade calls to it (or redirect). What the owner acknowledges is committed to
 * Postgres first, conditionally on its token, so a replica taking over rebuilds exactly what was
 * acknowledged, and a deposed owner's late writes (and so its answers) are refused.
 *
 * - `PortfolioLeases` takes, renews and loses leases (every ttl/3), rebuilds a book on takeover, and
 *   records the replica's heartbeat and budget versions.
 * - `FencedRecorder` is the core's record queue in HA mode: group commit to Postgres (one transaction
 *   per group), each row fenced by the token its portfolio had when it was decided.
 */
import { setImmediate } from 'node:timers';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { FillRecord } from '../db/stores/fills';
import type { ApprovedOrder, DecisionRecord } from '../db/stores/gateDecisions';
import type { HeldLease, LeaseRow } from '../db/stores/gateLeases';
import type { PositionRow } from '../db/stores/positions';
import type { GateCore, RecordQueue } from './gate';
import { EAGER_GROUP_RECORDS, type GroupCommitTally, tallyGroupCommit } from './spool';

type IdRow = { portfolioId: string; fillId: string; reportedAtMs: number };

/** What HA needs of Postgres (db/stores gateLeases.ts, gateDecisions.ts, fills.ts, positions.ts). */
export interface HaPorts {
  readonly leases: {
    acquire(
      portfolioId: string,
      replica: string,
      address: string,
      ttlMs: number,
      budgetVersion: number | null,
    ): Promise<number | undefined>;
    renew(replica: string, ttlMs: number, held: ReadonlyArray<HeldLease & { budgetVersion: number | null }>): Promise<Set<string>>;
    release(replica: string, held: readonly HeldLease[]): Promise<void>;
    owners(portfolioIds: readonly string[]): Promise<readonly LeaseRow[]>;
    heartbeat(replica: string, address: string, leaseTtlMs: number, budgetVersions: Readonly<Record<string, number>>): Promise<void>;
  };
  readonly decisions: {
    insertFenced(replica: string, rows: readonly DecisionRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>>;
    approvedInPortfolio(portfolioId: string, sinceMs: number, limit: number): Promise<readonly ApprovedOrder[]>;
  };
  readonly fills: {
    insertFenced(replica: string, rows: readonly FillRecord[], tokens: ReadonlyMap<string, number>): Promise<Set<string>>;
    idsInPortfolio(portfolioId: string, sinceMs: number, limit: number): Promise<readonly IdRow[]>;
  };
  readonly positions: { forPortfolio(portfolioId: string): Promise<readonly PositionRow[]> };
}

export interface HaOptions {
  readonly ports: HaPorts;
  /** How long a lease lives without renewal: a dead owner's portfolios are taken over within about 4/3 of it. Default 5 s. */
  readonly leaseTtlMs?: number;
  /** The address other replicas forward to (host:port as they reach it); default the address the gate bound. */
  readonly advertiseAddress?: string;
  /**
   * How this replica calls an owner: channel credentials and options. Without it, non-owners do not
   * forward: they answer UNAVAILABLE with the owner in trailing metadata (`ballast-owner-address`).
   */
  readonly peerClient?: PeerClient;
  /** Verified identities whose `x-ballast-forwarded-*` metadata is believed (the replicas' client certificates). */
  readonly peerIdentities?: readonly string[];
}

export interface PeerClient {
  readonly credentials: grpc.ChannelCredentials;
  readonly options?: grpc.ClientOptions;
}

export const DEFAULT_LEASE_TTL_MS = 5_000;

/** Where a portfolio's trade calls go: decided here, forwarded to its owner, or refused for now. */
export type Route =
  | { readonly kind: 'local' }
  | { readonly kind: 'owner'; readonly owner: string; readonly address: string }
  | { readonly kind: 'unavailable'; readonly why: string };

const LOCAL: Route = { kind: 'local' };

type Holding = { readonly state: 'adopting'; readonly token: number } | { readonly state: 'owned'; readonly token: number };

/** A row was decided while its portfolio's lease was held, but the lease is no longer ours. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export interface LeaseDeps {
  readonly replica: string;
  /** The decision core (a function: it is built after the leases, whose token its record queues read). */
  readonly core: () => GateCore;
  readonly logger: Logger;
  readonly clock: () => number;
  /** How far back working orders and used ids are rebuilt (the reservation TTL and id memory). */
  readonly rebuildWindowMs: number;
  readonly maxRebuiltIds: number;
}

export class PortfolioLeases {
  private readonly held = new Map<string, Holding>();
  private owners = new Map<string, LeaseRow>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private address = '';
  readonly ttlMs: number;
  /** Takeovers done since start, with how long each rebuild took (ms). */
  readonly takeovers: Array<{ portfolioId: string; token: number; working: number; rebuildMs: number }> = [];

  constructor(
    private readonly options: HaOptions,
    private readonly deps: LeaseDeps,
  ) {
    this.ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  /** Starts the lease loop once the gate knows the address peers reach it at. */
  start(boundAddress: string): Promise<void> {
    this.address = this.options.advertiseAddress ?? boundAddress;
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    return this.tick();
  }

  /** Stops renewing and ends the leases held, so the others take over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    const held = this.heldLeases();
    this.held.clear();
    await this.options.ports.leases
      .release(this.deps.replica, held)
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'releasing gate leases failed; they expire by themselves'));
  }

  route(portfolioId: string): Route {
    const h = this.held.get(portfolioId);
    if (h?.state === 'owned') return LOCAL;
    if (h?.state === 'adopting') return { kind: 'unavailable', why: 'this replica is taking over the portfolio; retry shortly' };
    const o = this.owners.get(portfolioId);
    if (o && o.owner !== this.deps.replica) return { kind: 'owner', owner: o.owner, address: o.ownerAddress };
    return { kind: 'unavailable', why: 'no replica holds the portfolio yet (a takeover is due within the lease TTL); retry shortly' };
  }

  /** The fencing token a decision for the portfolio is written under now (undefined: not ours). */
  token(portfolioId: string): number | undefined {
    const h = this.held.get(portfolioId);
    return h?.state === 'owned' ? h.token : undefined;
  }

  /** A write found the lease gone, or failed: stop deciding for it; the next tick takes it again and rebuilds. */
  lost(portfolioId: string, why: string): void {
    if (!this.held.delete(portfolioId)) return;
    this.owners.delete(portfolioId);
    this.deps.logger.warn({ portfolioId, why }, 'gate lease lost: no longer deciding for this portfolio');
  }

  ownedPortfolios(): string[] {
    return [...this.held].filter(([, h]) => h.state === 'owned').map(([id]) => id);
  }

  /** One round: renew, take what is free, learn the owners of the rest, heartbeat. Never two at once. */
  tick(): Promise<void> {
    this.ticking ??= this.round()
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'gate lease round failed; retrying'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    const { leases } = this.options.ports;
    const { replica } = this.deps;
    const core = this.deps.core();
    const version = (id: string): number | null => core.snapshot(id)?.version ?? null;
    const held = this.heldLeases();
    const renewed = await leases.renew(
      replica,
      this.ttlMs,
      held.map((h) => ({ ...h, budgetVersion: version(h.portfolioId) })),
    );
    for (const h of held) if (!renewed.has(h.portfolioId)) this.lost(h.portfolioId, 'renewal refused: another replica took over');
    const candidates = core.portfolioIds.filter((id) => !this.held.has(id) && core.snapshot(id));
    for (const id of candidates) {
      // Known live elsewhere at the last round (by Postgres's clock): not worth a statement.
      const current = this.owners.get(id);
      if (current && current.owner !== replica) continue;
      const token = await leases.acquire(id, replica, this.address, this.ttlMs, version(id));
      if (token !== undefined) await this.adopt(id, token);
    }
    const others = core.portfolioIds.filter((id) => !this.held.has(id));
    this.owners = new Map((await leases.owners(others)).map((o) => [o.portfolioId, o]));
    const versions = Object.fromEntries(core.portfolioIds.map((id) => [id, version(id)]).filter(([, v]) => v !== null));
    await leases.heartbeat(replica, this.address, this.ttlMs, versions as Record<string, number>);
  }

  /** Rebuild the portfolio's book from Postgres (which holds every acknowledged write of every past owner), then serve it. */
  private async adopt(portfolioId: string, token: number): Promise<void> {
    this.held.set(portfolioId, { state: 'adopting', token });
    const started = Date.now();
    const { ports } = this.options;
    const since = this.deps.clock() - this.deps.rebuildWindowMs;
    try {
      const [positions, orders, fillIds] = await Promise.all([
        ports.positions.forPortfolio(portfolioId),
        ports.decisions.approvedInPortfolio(portfolioId, since, this.deps.maxRebuiltIds),
        ports.fills.idsInPortfolio(portfolioId, since, this.deps.maxRebuiltIds),
      ]);
      if (this.held.get(portfolioId)?.token !== token) return;
      const { working } = this.deps.core().adopt(portfolioId, positions, orders, fillIds);
      this.held.set(portfolioId, { state: 'owned', token });
      const rebuildMs = Date.now() - started;
      this.takeovers.push({ portfolioId, token, working, rebuildMs });
      this.deps.logger.info({ portfolioId, token, working, rebuildMs }, 'gate lease taken: deciding for this portfolio');
    } catch (err) {
      // Keep the lease (renewed as usual) and retry the rebuild next round; nothing is decided meanwhile.
      this.held.delete(portfolioId);
      throw err;
    }
  }

  private heldLeases(): HeldLease[] {
    return [...this.held].map(([portfolioId, h]) => ({ portfolioId, fencingToken: h.token }));
  }
}

interface Pending<T> {
  readonly row: T;
  readonly token: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The core's record queue in HA mode: a row is acknowledged once Postgres committed it under its
 * portfolio's fencing token. Rows arriving while a statement is in flight form the next group. With
 * none in flight, a group goes at the end of the event loop's turn or once it holds `eagerGroupRows`,
 * as the spool's groups do (grpc/spool.ts): a burst's first commit overlaps deciding the rest.
 */
export class FencedRecorder<T extends { readonly portfolioId: string }> implements RecordQueue<T> {
  private queue: Pending<T>[] = [];
  private flight: Promise<void> | undefined;
  private scheduled = false;
  written = 0;
  /** Fenced commits (µs) of the groups so far, as the spool's syncStats: what an answer waits for in HA mode. */
  readonly commitStats: GroupCommitTally = { groups: 0, records: 0, totalUs: 0, maxUs: 0 };

  constructor(
    private readonly write: (rows: readonly T[], tokens: ReadonlyMap<string, number>) => Promise<Set<string>>,
    private readonly leases: Pick<PortfolioLeases, 'token' | 'lost'>,
    private readonly onWritten: (rows: readonly T[]) => void = () => undefined,
    private readonly eagerGroupRows = EAGER_GROUP_RECORDS,
  ) {}

  push(row: T): Promise<void> {
    const token = this.leases.token(row.portfolioId);
    if (token === undefined) return Promise.reject(new LeaseLost(`this replica no longer holds portfolio ${row.portfolioId}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, token, resolve, reject });
      if (!this.flight && this.queue.length >= this.eagerGroupRows) this.start();
      else this.schedule();
    });
  }

  /** Resolves once every row pushed so far is committed or refused. */
  async sync(): Promise<void> {
    while (this.flight || this.queue.length > 0) {
      this.schedule();
      await this.flight?.catch(() => undefined);
      if (!this.flight && this.queue.length > 0) await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flight) return;
    this.scheduled = true;
    // Let every call of this turn of the event loop join the group.
    setImmediate(() => {
      this.scheduled = false;
      // An eager group may have gone meanwhile: its end schedules what is left.
      if (!this.flight) this.start();
    });
  }

  private start(): void {
    this.flight = this.flush().finally(() => {
      this.flight = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    const tokens = new Map<string, number>();
    for (const p of group) if (!tokens.has(p.row.portfolioId)) tokens.set(p.row.portfolioId, p.token);
    // A portfolio lost and taken again within one group: only rows under the newest token are ours.
    const stale = group.filter((p) => tokens.get(p.row.portfolioId) !== p.token);
    stale.forEach((p) => p.reject(new LeaseLost(`portfolio ${p.row.portfolioId} changed owner while this was decided`)));
    const rows = group.filter((p) => tokens.get(p.row.portfolioId) === p.token);
    let held: Set<string>;
    const t0 = process.hrtime.bigint();
    try {
      held = await this.write(
        rows.map((p) => p.row),
        tokens,
      );
      tallyGroupCommit(this.commitStats, t0, rows.length);
    } catch (err) {
      // Unknown whether Postgres has the rows: stop deciding for these portfolios; a retake rebuilds from what it has.
      for (const id of tokens.keys()) this.leases.lost(id, `write failed: ${(err as Error).message}`);
      rows.forEach((p) => p.reject(err as Error));
      return;
    }
    const done: T[] = [];
    for (const p of rows) {
      if (held.has(p.row.portfolioId)) {
        done.push(p.row);
        p.resolve();
      } else {
        this.leases.lost(p.row.portfolioId, 'fenced write refused: another replica holds the lease');
        p.reject(new LeaseLost(`portfolio ${p.row.portfolioId} is now decided by another replica`));
      }
    }
    this.written += done.length;
    this.onWritten(done);
  }
}
