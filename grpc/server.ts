/**
 * The gate's lifecycle. `serveGate` builds the decision core over the injected stores, brings it up in
 * order, and serves GateService (handlers.ts) with standard health checking and server reflection;
 * `close()` takes it down in the reverse order. No request logic lives here.
 *
 * Start (health NOT_SERVING until every step is done; a failed step stops what started and throws):
 *   1. subscribe to portfolio changes and load every budget (SnapshotSource);
 *   2. read the stored positions, retried: never serve as if every book were flat;
 *   3. bind, then report SERVING.
 * Background while serving: snapshot poll, reservation expiry (1 s), position reconciliation (30 s),
 * and the batched audit and fill writes.
 */
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { FileDescriptorProto, FileDescriptorSet } from 'protobufjs/ext/descriptor';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { FillRecord } from '../db/stores/fills';
import type { DecisionRecord } from '../db/stores/gateDecisions';
import { repoRoot } from '../lib/paths';
import type { AccessPolicy } from './access';
import { BatchWriter } from './batchWriter';
import { GateCore } from './gate';
import { GateServiceService } from './generated/ballast/gate/v1/gate';
import { PlanServiceService } from './generated/ballast/gate/v1/plans';
import { MarketDataServiceService } from './generated/ballast/gate/v1/market';
import { type IngestPorts, marketDataService } from './ingest';
import { gateService } from './handlers';
import { type PlanStreamOptions, PlanStreams } from './plans';
import type { GateControls, GateStores } from './ports';
import { reconcilePositions } from './reconcile';
import { SnapshotSource } from './snapshotSource';

export interface TlsOptions {
  /** PEM server certificate chain and private key. */
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
  /** PEM CA bundle for client certificates. With it, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: Buffer | string;
}

export interface GateOptions {
  /** What the gate reads and writes (db/ stores in production). */
  readonly stores: GateStores;
  /** Visibility and control ports; each one absent makes its RPC answer FAILED_PRECONDITION. */
  readonly controls?: GateControls;
  readonly logger: Logger;
  readonly host?: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  readonly tls?: TlsOptions;
  /** Identity → grants. Without it every caller may do everything (development only). */
  readonly access?: AccessPolicy;
  readonly maxReceiveMessageLength?: number;
  readonly staleReduceAfterMs?: number;
  readonly staleHaltAfterMs?: number;
  readonly restrictedInstruments?: readonly string[];
  readonly clock?: () => number;
  readonly pollIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  readonly reservationTtlMs?: number;
  readonly auditFlushIntervalMs?: number;
  /** Audit rows queued beyond this make trade RPCs answer RESOURCE_EXHAUSTED. */
  readonly auditMaxQueue?: number;
  /** Recorded with every decision and fill; defaults to host:pid. */
  readonly replicaId?: string;
  /** Serves PlanService (rebalancing plans to the OMS, grpc/plans.ts) when given. */
  readonly plans?: Omit<PlanStreamOptions, 'access' | 'logger'>;
  /** Serves MarketDataService (closes in, grpc/ingest.ts) when given. */
  readonly ingest?: IngestPorts;
}

export interface RunningGate {
  readonly address: string;
  close(): Promise<void>;
  /** The in-memory decision core (snapshots, exposures), for tests and processes embedding the gate. */
  readonly core: GateCore;
}

export const GATE_SERVICE_NAME = 'ballast.gate.v1.GateService';
const HOUR = 3_600_000;
const INITIAL_POSITION_READS = 5;

export async function serveGate(options: GateOptions): Promise<RunningGate> {
  const { logger, stores } = options;
  const replica = options.replicaId ?? `${hostname()}:${process.pid}`;
  const audit = new BatchWriter<DecisionRecord>({
    name: 'audit',
    write: (rows) => stores.decisions.insert(replica, rows),
    flushIntervalMs: options.auditFlushIntervalMs ?? 50,
    maxBatch: 5_000,
    maxQueue: options.auditMaxQueue ?? 200_000,
    logger,
  });
  const fills = new BatchWriter<FillRecord>({
    name: 'fills',
    write: (rows) => stores.fills.insert(replica, rows),
    flushIntervalMs: 50,
    maxBatch: 2_000,
    maxQueue: 1_000_000,
    logger,
  });
  const core = new GateCore({
    policy: {
      staleReduceAfterMs: options.staleReduceAfterMs ?? 24 * HOUR,
      staleHaltAfterMs: options.staleHaltAfterMs ?? 72 * HOUR,
      restrictedInstruments: new Set(options.restrictedInstruments ?? []),
    },
    clock: options.clock ?? Date.now,
    // A day: orders can rest that long; the OMS's fill/cancel reports are what normally release them.
    reservationTtlMs: options.reservationTtlMs ?? 24 * HOUR,
    idMemoryMs: 24 * HOUR,
    audit,
    fills,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [GATE_SERVICE_NAME]: 'NOT_SERVING' });
  let bound = false;
  const setHealth = (status: 'SERVING' | 'NOT_SERVING'): void => {
    health.setStatus('', status);
    health.setStatus(GATE_SERVICE_NAME, status);
  };
  const source = new SnapshotSource({
    reader: stores.snapshots,
    changes: stores.changes,
    core,
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    logger,
    // Budgets can arrive after start when the first load failed; serve from then on.
    onLoaded: () => {
      if (bound) setHealth('SERVING');
    },
  });
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxReceiveMessageLength ?? 64 * 1024 });
  server.addService(
    GateServiceService,
    gateService({ core, budgets: source, audit, access: options.access, controls: options.controls ?? {}, logger }),
  );
  const plans = options.plans ? new PlanStreams({ ...options.plans, access: options.access, logger }) : undefined;
  if (plans) server.addService(PlanServiceService, plans.service());
  if (options.ingest)
    server.addService(MarketDataServiceService, marketDataService({ ports: options.ingest, access: options.access, logger }));
  health.addToServer(server);
  reflection().addToServer(server);

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void): void => {
    const t = setInterval(fn, ms);
    t.unref();
    timers.push(t);
  };
  /** Stops background work and writes everything queued; used by close() and by a failed start. */
  const release = async (): Promise<void> => {
    timers.forEach((t) => clearInterval(t));
    await plans?.close();
    await source.close();
    await audit.close();
    await fills.close();
  };
  const reconcile = (): Promise<void> => reconcilePositions(stores.positions, core, fills);

  const host = options.host ?? '127.0.0.1';
  const hostPort = (port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let address: string;
  try {
    await source.start();
    await plans?.start();
    every(1_000, () => {
      const expired = core.expireReservations();
      // A resting order's capacity is only safe to hand back when the OMS reports the order's end.
      if (expired > 0)
        logger.warn({ expired }, "reservations expired without a fill or cancel report: the OMS must report every order's end");
    });
    every(options.reconcileIntervalMs ?? 30_000, () => {
      reconcile().catch((err: Error) => logger.warn({ err: err.message }, 'position reconciliation failed'));
    });
    await retry(reconcile, INITIAL_POSITION_READS, (err, attempt) =>
      logger.warn({ err: err.message, attempt }, 'initial position reconciliation failed; retrying'),
    );
    address = hostPort(await bind(server, hostPort(options.port ?? 0), serverCredentials(options.tls)));
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  bound = true;
  if (source.ready) setHealth('SERVING');
  if (!options.access) logger.warn('gate started without an access policy: every caller may trade and control');
  logger.info({ address, replica, tls: Boolean(options.tls), mtls: Boolean(options.tls?.clientCa) }, 'gate listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    core,
    close: () =>
      (closing ??= (async () => {
        setHealth('NOT_SERVING');
        // Plan streams never end by themselves: end them (UNAVAILABLE) so the shutdown is not held.
        await plans?.close();
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        // Every queued decision and fill is written before the caller may close the stores.
        await release();
        logger.info({ address, auditRows: audit.written }, 'gate stopped');
      })()),
  };
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}

function serverCredentials(tls: TlsOptions | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  // With a client CA, clients must present a certificate it signed (mTLS).
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ? Buffer.from(tls.clientCa) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    tls.clientCa !== undefined,
  );
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
