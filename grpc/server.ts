/**
 * The gate's lifecycle. `serveGate` builds the decision core over the injected stores, brings it up in
 * order, and serves GateService (handlers.ts) with standard health checking and server reflection;
 * `close()` takes it down in the reverse order. No request logic lives here.
 *
 * Start (health NOT_SERVING until every step is done; a failed step stops what started and throws):
 *   1. open the spool in the data dir (grpc/spool.ts): what a previous run left is queued for Postgres;
 *   2. subscribe to portfolio changes and load every budget (SnapshotSource);
 *   3. write the replayed records to Postgres, retried;
 *   4. rebuild the reservations of this replica's working orders and its duplicate-id memory from
 *      Postgres (which now holds everything it acknowledged), retried: never forget an approval;
 *   5. read the stored positions, retried: never serve as if every book were flat;
 *   6. bind, then report SERVING.
 * Background while serving: snapshot poll, reservation expiry and health (1 s), position
 * reconciliation (30 s), and the batched audit and fill writes from the spool to Postgres.
 *
 * Health is NOT_SERVING whenever the gate could not record what it would acknowledge: the spool
 * failed, or a Postgres outage outlasted what the queues hold (the backlog high-water marks;
 * recordQueues.ts, gateHealth.ts).
 */
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { FileDescriptorProto, FileDescriptorSet } from 'protobufjs/ext/descriptor';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { FillRecord } from '../db/stores/fills';
import type { DecisionRecord } from '../db/stores/gateDecisions';
import { repoRoot } from '../lib/paths';
import type { AccessPolicy } from './access';
import { GateCore, type GateCoreOptions } from './gate';
import { GateHealth } from './gateHealth';
import { GateServiceService } from './generated/ballast/gate/v1/gate';
import { PlanServiceService } from './generated/ballast/gate/v1/plans';
import { MarketDataServiceService } from './generated/ballast/gate/v1/market';
import { type IngestPorts, marketDataService } from './ingest';
import { gateService, type HandlerDeps } from './handlers';
import { type ConnectionStats, connectionServerOptions, listen } from './listener';
import type { GateControls, GateStores } from './ports';
import { Quarantine } from './quarantine';
import { type GroupCommitTally, stableReplicaId } from './spool';
import { type RecordQueues, recordQueues } from './recordQueues';
import { type GateObserver, UNOBSERVED } from './metrics';
import { DEFAULT_RESERVATION_TTL_MS } from '../risk/pretrade/exposures';
import { OrderThrottle, type ThrottleConfig } from '../risk/pretrade/throttle';
import { DEFAULT_WARNING_LEVEL, limitWarningAlert } from '../risk/pretrade/warnings';
import { type PlanStreamOptions, PlanStreams } from './plans';
import { reconcilePositions } from './reconcile';
import { checkGateSecurity, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, type TlsOptions } from './security';
import { SnapshotSource } from './snapshotSource';
import { type TradeStreamOptions, TradeStreams } from './tradeStream';
import { FencedRecorder, type HaOptions, PortfolioLeases } from './ha';
import { PeerForwarder, type Routing } from './forward';

export type { TlsOptions } from './security';

export interface GateOptions {
  /** What the gate reads and writes (db/ stores in production). */
  readonly stores: GateStores;
  /** Visibility and control ports; each one absent makes its RPC answer FAILED_PRECONDITION. */
  readonly controls?: GateControls;
  readonly logger: Logger;
  readonly host?: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  /** Required beyond loopback, with a client CA (mTLS); grpc/security.ts says what the gate refuses to start with. */
  readonly tls?: TlsOptions;
  /** Identity → grants. Without it (loopback only) every caller may trade, and no one may control. */
  readonly access?: AccessPolicy;
  /** Handshake and idle timeouts, connection cap, keepalive (defaults: DEFAULT_CONNECTION_LIMITS). */
  readonly connectionLimits?: Partial<ConnectionLimits>;
  readonly maxReceiveMessageLength?: number;
  readonly staleReduceAfterMs?: number;
  readonly staleHaltAfterMs?: number;
  readonly restrictedInstruments?: readonly string[];
  readonly clock?: () => number;
  readonly pollIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  readonly reservationTtlMs?: number;
  /** Working orders (open reservations) a portfolio may hold on this replica; beyond, RESERVATION_CAP. Default 100 000. */
  readonly maxWorkingOrders?: number;
  /** Message throttle per caller identity and per portfolio (EvaluateTrade; ORDER_RATE_THROTTLED); default none. */
  readonly throttle?: ThrottleConfig;
  /** Fraction of a limit at which an approval raises a `limit-warning` alert and metric (default 0.8; outside (0, 1): off). */
  readonly warningLevel?: number;
  readonly auditFlushIntervalMs?: number;
  /** Audit rows queued beyond this make trade RPCs answer RESOURCE_EXHAUSTED. */
  readonly auditMaxQueue?: number;
  /** Recorded with every decision and fill; defaults to the name kept in the data dir (else host:pid). */
  readonly replicaId?: string;
  /**
   * This replica's own directory: the spool every acknowledged decision and fill is fsync'ed to first,
   * the quarantine file, the replica name. Without it nothing the gate acknowledges survives a crash
   * (tests with stand-in stores only).
   */
  readonly dataDir?: string;
  /** Metrics (grpc/metrics.ts `gateMetrics`); default none. */
  readonly observer?: GateObserver;
  /** Serves PlanService (rebalancing plans to the OMS, grpc/plans.ts) when given. */
  readonly plans?: Omit<PlanStreamOptions, 'access' | 'logger'>;
  /** Serves MarketDataService (closes in, grpc/ingest.ts) when given. */
  readonly ingest?: IngestPorts;
  /** Bounds of EvaluateTradeStream (grpc/tradeStream.ts): orders in flight per stream, streams per gate. */
  readonly tradeStreams?: Omit<TradeStreamOptions, 'logger'>;
  /**
   * Gate HA (docs/gate-ha.md, grpc/ha.ts): this replica decides only the portfolios whose lease it
   * holds, forwards the others to their owner, and answers once Postgres has the decision or fill
   * (fenced). Without it: a single gate, answering once its spool has them.
   */
  readonly ha?: HaOptions;
}

/** Counters a metrics exporter can read (RunningGate.stats()). */
export interface GateStats {
  readonly decisionsWritten: number;
  readonly fillsWritten: number;
  /** Rows Postgres refused on their own, kept in the quarantine file. */
  readonly quarantined: number;
  readonly decisionsQueued: number;
  readonly fillsQueued: number;
  /** Records in the spool not yet in Postgres. */
  readonly spoolBacklog: number;
  /** The spool's group commits: how many, records covered, durable write time (µs, total and max). */
  readonly spoolSyncs: Readonly<GroupCommitTally>;
  /** Gate HA: the fenced Postgres commits of decisions an answer waits for instead (zero for a single gate). */
  readonly fencedCommits: Readonly<GroupCommitTally>;
}

export interface RunningGate {
  readonly address: string;
  close(): Promise<void>;
  /** The in-memory decision core (snapshots, exposures), for tests and processes embedding the gate. */
  readonly core: GateCore;
  /** Open, handshaking, timed-out, evicted and refused connections. */
  connections(): ConnectionStats;
  /** Gate HA: the leases this replica holds and its takeovers (undefined for a single gate). */
  readonly leases?: PortfolioLeases;
  stats(): GateStats;
}

const HOUR = 3_600_000;
const INITIAL_POSITION_READS = 5;
const ID_MEMORY_MS = 24 * HOUR;
const MAX_REMEMBERED_IDS = 1_000_000;
/** How long in-flight calls may take to finish at shutdown before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function serveGate(options: GateOptions): Promise<RunningGate> {
  const { logger, stores } = options;
  const host = options.host ?? '127.0.0.1';
  checkGateSecurity({ host, tls: options.tls, access: options.access });
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  const replica = options.replicaId ?? (options.dataDir ? await stableReplicaId(options.dataDir) : `${hostname()}:${process.pid}`);
  const quarantine = new Quarantine({ dataDir: options.dataDir, replica, logger, alerts: stores.alerts });
  const observer = options.observer ?? UNOBSERVED;
  /** Records 1..replayed came from a previous run's spool. */
  let replayed = 0;
  const records = recordQueues({
    stores,
    replica,
    quarantine,
    observer,
    logger,
    dataDir: options.dataDir,
    auditFlushIntervalMs: options.auditFlushIntervalMs,
    auditMaxQueue: options.auditMaxQueue,
    // Replayed fills were never applied in this process's memory (the positions read brings them).
    onFillsWritten: (entries) => core.fillsWritten(entries.filter((e) => e.seq > replayed).map((e) => e.row)),
  });
  const { audit, fills, journal, spool } = records;
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  const clock = options.clock ?? Date.now;
  // Gate HA: leases, and fenced Postgres writes in place of the spool for what is acknowledged.
  const leases: PortfolioLeases | undefined = options.ha
    ? new PortfolioLeases(options.ha, {
        replica,
        core: (): GateCore => core,
        logger,
        clock,
        rebuildWindowMs: Math.max(reservationTtlMs, ID_MEMORY_MS),
        maxRebuiltIds: MAX_REMEMBERED_IDS,
      })
    : undefined;
  const fenced: HaRecorders | undefined = options.ha && leases ? haRecorders(options.ha, replica, leases, () => core) : undefined;
  const durable = fenced ? fenced.sync : (): Promise<void> => journal.sync();
  const core = decisionCore(options, {
    replica,
    observer,
    reservationTtlMs,
    audit: observer.countDecisions(
      fenced?.decisions ?? { push: (row) => journal.append('decision', replica, stores.decisions.encode(replica, row)) },
    ),
    fills: fenced?.fills ?? { push: (row) => journal.append('fill', replica, row) },
    durable,
  });
  const forwarder = options.ha?.peerClient ? new PeerForwarder(options.ha.peerClient) : undefined;
  const routing: Routing | undefined = leases
    ? {
        route: (portfolioId) => leases.route(portfolioId),
        forwarder,
        peerIdentities: new Set(options.ha?.peerIdentities ?? []),
        open: !options.access,
      }
    : undefined;
  const health = new GateHealth(logger);
  let bound = false;
  let stopping = false;
  const refreshHealth = (): void => health.refresh({ listening: bound && !stopping, ready: source.ready, problem: records.problem() });
  const source = new SnapshotSource({
    reader: stores.snapshots,
    changes: stores.changes,
    core,
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    logger,
    // Budgets can arrive after start when the first load failed; serve from then on.
    onLoaded: () => refreshHealth(),
  });
  const tradeStreams = new TradeStreams({ ...options.tradeStreams, logger });
  const plans = options.plans ? new PlanStreams({ ...options.plans, access: options.access, logger }) : undefined;
  const server = gateServer(options, limits, observer, health, plans, {
    core,
    budgets: source,
    audit,
    recording: {
      get problem() {
        return records.problem();
      },
      sync: durable,
    },
    access: options.access,
    controls: options.controls ?? {},
    logger,
    streams: tradeStreams,
    routing,
  });
  observer.watch({ core, queues: { audit, fills }, ready: () => source.ready });

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void): void => {
    const t = setInterval(fn, ms);
    t.unref();
    timers.push(t);
  };
  /** Stops background work and writes everything queued; used by close() and by a failed start. */
  const release = async (): Promise<void> => {
    timers.forEach((t) => clearInterval(t));
    await leases?.stop();
    forwarder?.close();
    await plans?.close();
    await source.close();
    // Everything acknowledged is in the spool; write what Postgres takes now, the spool keeps the rest.
    await journal.sync().catch(() => undefined);
    await audit.close();
    await fills.close();
    await journal.close();
  };
  const reconcile = (): Promise<void> => reconcilePositions(stores.positions, core, fills);
  const rebuild = (): Promise<void> =>
    rebuildWorkingOrders(stores, core, replica, clock() - Math.max(reservationTtlMs, ID_MEMORY_MS), logger);
  /** Replayed records first: rebuilding from Postgres must see what the previous run acknowledged. */
  const writeBacklog = (): Promise<void> => audit.afterFlush(() => fills.afterFlush(async () => undefined));

  const hostPort = (port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let address: string;
  let listener: Awaited<ReturnType<typeof listen>>;
  try {
    if (spool) {
      replayed = (await spool.open()).replayed;
      if (replayed > 0) logger.info({ replayed, dataDir: options.dataDir }, 'replaying the spool into Postgres before serving');
    }
    await source.start();
    await plans?.start();
    every(1_000, () => {
      refreshHealth();
      const expired = core.expireReservations();
      // A resting order's capacity is only safe to hand back when the OMS reports the order's end.
      if (expired > 0)
        logger.warn({ expired }, "reservations expired without a fill or cancel report: the OMS must report every order's end");
    });
    every(options.reconcileIntervalMs ?? 30_000, () => {
      reconcile().catch((err: Error) => logger.warn({ err: err.message }, 'position reconciliation failed'));
    });
    await retry(writeBacklog, INITIAL_POSITION_READS, (err, attempt) =>
      logger.warn({ err: err.message, attempt }, 'writing the replayed spool to Postgres failed; retrying'),
    );
    // In HA each portfolio's book is rebuilt from every replica's writes when its lease is taken.
    if (!leases)
      await retry(rebuild, INITIAL_POSITION_READS, (err, attempt) =>
        logger.warn({ err: err.message, attempt }, 'rebuilding working orders failed; retrying'),
      );
    await retry(reconcile, INITIAL_POSITION_READS, (err, attempt) =>
      logger.warn({ err: err.message, attempt }, 'initial position reconciliation failed; retrying'),
    );
    listener = await listen(server, { host, port: options.port ?? 0, tls: options.tls, limits, logger });
    address = hostPort(listener.port);
    await leases?.start(address);
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  bound = true;
  refreshHealth();
  if (!options.access) logger.warn('gate started without an access policy (loopback only): every local caller may trade, none may control');
  logger.info(
    {
      address,
      replica,
      tls: Boolean(options.tls),
      mtls: Boolean(options.tls?.clientCa),
      limits,
      ha: leases ? { leaseTtlMs: leases.ttlMs, owns: leases.ownedPortfolios() } : undefined,
    },
    'gate listening',
  );

  let closing: Promise<void> | undefined;
  return {
    address,
    core,
    connections: () => listener.stats(),
    leases,
    stats: () => gateStats(records, quarantine, fenced),
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        health.set('NOT_SERVING');
        // Plan streams never end by themselves: end them (UNAVAILABLE) so the shutdown is not held.
        await plans?.close();
        // Trade streams answer what they read, then end (UNAVAILABLE): the OMS retries the rest by id.
        await tradeStreams.close(SHUTDOWN_GRACE_MS);
        // Stop accepting first; established connections finish their calls and close with the server.
        const unbound = listener.close(SHUTDOWN_GRACE_MS);
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        await unbound;
        // Every queued decision and fill is written (or left in the spool, said at warn level) before the caller may close the stores.
        await release();
        logger.info({ address, auditRows: audit.written, fillRows: fills.written, leftInSpool: journal.backlog }, 'gate stopped');
      })()),
  };
}

/** The gRPC server and every service the gate serves: GateService, plans and market data when given, health, reflection. */
function gateServer(
  options: GateOptions,
  limits: ConnectionLimits,
  observer: GateObserver,
  health: GateHealth,
  plans: PlanStreams | undefined,
  handlers: HandlerDeps,
): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageLength ?? 64 * 1024,
    ...connectionServerOptions(limits),
    interceptors: observer.interceptors,
  });
  server.addService(GateServiceService, gateService(handlers));
  if (plans) server.addService(PlanServiceService, plans.service());
  if (options.ingest)
    server.addService(
      MarketDataServiceService,
      marketDataService({ ports: options.ingest, access: options.access, logger: options.logger }),
    );
  health.service.addToServer(server);
  reflection().addToServer(server);
  return server;
}

const NO_COMMITS: GroupCommitTally = { groups: 0, records: 0, totalUs: 0, maxUs: 0 };

function gateStats(records: RecordQueues, quarantine: Quarantine, fenced: HaRecorders | undefined): GateStats {
  const { audit, fills, journal, spool } = records;
  return {
    decisionsWritten: audit.written + (fenced?.decisions.written ?? 0),
    fillsWritten: fills.written + (fenced?.fills.written ?? 0),
    quarantined: quarantine.count,
    decisionsQueued: audit.pending,
    fillsQueued: fills.pending,
    spoolBacklog: journal.backlog,
    spoolSyncs: { ...(spool?.syncStats ?? NO_COMMITS) },
    fencedCommits: { ...(fenced?.decisions.commitStats ?? NO_COMMITS) },
  };
}

/** How the core records and waits for durability: the spool's queues, or HA's fenced ones. */
type CoreRecorders = Pick<GateCoreOptions, 'audit' | 'fills' | 'durable'>;

/** The in-memory decision core with the gate's policy; limit warnings become alerts off the request path. */
function decisionCore(
  options: GateOptions,
  deps: CoreRecorders & { replica: string; observer: GateObserver; reservationTtlMs: number },
): GateCore {
  const { logger, stores } = options;
  const warningLevel = options.warningLevel ?? DEFAULT_WARNING_LEVEL;
  return new GateCore({
    policy: {
      staleReduceAfterMs: options.staleReduceAfterMs ?? 24 * HOUR,
      staleHaltAfterMs: options.staleHaltAfterMs ?? 72 * HOUR,
      restrictedInstruments: new Set(options.restrictedInstruments ?? []),
      maxWorkingOrders: options.maxWorkingOrders,
      warningLevel,
    },
    clock: options.clock ?? Date.now,
    // A day: orders can rest that long; the OMS's fill/cancel reports are what normally release them.
    reservationTtlMs: deps.reservationTtlMs,
    idMemoryMs: ID_MEMORY_MS,
    maxRememberedIds: MAX_REMEMBERED_IDS,
    audit: deps.audit,
    fills: deps.fills,
    durable: deps.durable,
    throttle: options.throttle && new OrderThrottle(options.throttle),
    onLimitWarning: (portfolioId, warning) => {
      deps.observer.limitWarning(portfolioId, warning.reason);
      const alert = limitWarningAlert(deps.replica, portfolioId, warning, warningLevel, Date.now());
      // Off the request path; a lost alert is logged, never a reason to refuse the order.
      setTimeout(
        () => void stores.alerts?.raise(alert).catch((err: Error) => logger.warn({ err, alert }, 'limit warning alert not written')),
        0,
      );
    },
  });
}

/** Start step 4: this replica's working orders and duplicate-id memory since `sinceMs`, from Postgres. */
async function rebuildWorkingOrders(stores: GateStores, core: GateCore, replica: string, sinceMs: number, logger: Logger): Promise<void> {
  const { approvedSince } = stores.decisions;
  const { idsSince } = stores.fills;
  if (!approvedSince || !idsSince) {
    logger.warn('the stores cannot list approved orders: working orders of a previous run are not rebuilt');
    return;
  }
  const [orders, fillIds] = await Promise.all([
    approvedSince.call(stores.decisions, replica, sinceMs, MAX_REMEMBERED_IDS),
    idsSince.call(stores.fills, replica, sinceMs, MAX_REMEMBERED_IDS),
  ]);
  const { working } = core.restore(orders, fillIds);
  logger.info({ replica, working, orderIds: orders.length, fillIds: fillIds.length }, 'rebuilt working orders and duplicate-id memory');
}

/** HA record queues: decisions and fills committed to Postgres under the portfolio's fencing token. */
interface HaRecorders {
  readonly decisions: FencedRecorder<DecisionRecord>;
  readonly fills: FencedRecorder<FillRecord>;
  sync(): Promise<void>;
}

function haRecorders(ha: HaOptions, replica: string, leases: PortfolioLeases, core: () => GateCore): HaRecorders {
  const decisions = new FencedRecorder<DecisionRecord>((rows, tokens) => ha.ports.decisions.insertFenced(replica, rows, tokens), leases);
  const fills = new FencedRecorder<FillRecord>(
    (rows, tokens) => ha.ports.fills.insertFenced(replica, rows, tokens),
    leases,
    (rows) => core().fillsWritten(rows),
  );
  return { decisions, fills, sync: () => Promise.all([decisions.sync(), fills.sync()]).then(() => undefined) };
}

/**
 * Reflection describes the gate's services and health, so grpcurl / buf curl need no local protos. It
 * serves the descriptors `buf build` wrote at build time (grpc/generated/*.binpb): exact ones, with their
 * imports (google/protobuf/timestamp.proto) and health's map entry as protoc names it, which the
 * descriptors protobufjs synthesizes get wrong (grpcurl: "HealthListResponse.statuses is an invalid map",
 * "cannot resolve type google.protobuf.Timestamp"). Without them (a build without buf), the protobufjs ones.
 */
function reflection(): ReflectionService {
  const images = ['gate.binpb', 'health.binpb'].map((f) => join(repoRoot(), 'grpc', 'generated', f));
  if (images.every((image) => existsSync(image))) {
    const files = images.flatMap((image) => (FileDescriptorSet.decode(readFileSync(image)) as unknown as { file: DescriptorFile[] }).file);
    // JSON tools then print and accept the proto field names (client_order_id), as the gate's docs use them.
    files.forEach((file) => file.messageType.forEach(withoutJsonNames));
    const fileDescriptorProtos = files.map((file) => FileDescriptorProto.encode(file as never).finish());
    return new ReflectionService({ 'ballast.descriptors': { fileDescriptorProtos } } as unknown as protoLoader.PackageDefinition);
  }
  const protoRoot = join(repoRoot(), 'proto');
  const protos = ['gate.proto', 'plans.proto', 'market.proto'].map((f) => join(protoRoot, 'ballast', 'gate', 'v1', f));
  return new ReflectionService(protoLoader.loadSync([...protos, healthProtoPath], { includeDirs: [protoRoot], keepCase: true }));
}

/** What reflection's post-processing touches of a decoded descriptor (protobufjs/ext/descriptor ships no types for it). */
interface DescriptorMessage {
  readonly field: { jsonName?: string }[];
  readonly nestedType: DescriptorMessage[];
}
interface DescriptorFile {
  readonly messageType: DescriptorMessage[];
}

function withoutJsonNames(message: DescriptorMessage): void {
  message.field.forEach((field) => delete field.jsonName);
  message.nestedType.forEach(withoutJsonNames);
}

async function retry(fn: () => Promise<void>, attempts: number, onError: (err: Error, attempt: number) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      onError(err as Error, attempt);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
