/**
 * The full Temporal server on PostgreSQL, as a firm runs it (the dev server's SQLite aside): built
 * from Go modules (deploy/temporal-server, our own main over go.temporal.io/server) into a cache
 * outside the repo, its schema set up in its own databases, run with deploy/temporal-server's
 * config (history shard count set on purpose there), `default` namespace and Ballast's search
 * attributes registered through the API. Used by `npm run test:full-server` and
 * `BALLAST_TEMPORAL=full npm start`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { Logger } from 'pino';
import { dropDatabase, ensureDatabase, withDatabase } from '../db/migrate';
import { repoRoot } from '../lib/paths';
import {
  type SearchAttributeSpec,
  answers,
  cacheDir,
  ensureSearchAttributes,
  freePort,
  goBinary,
  runWithProgress,
  stopChild,
} from './temporal';
import { connectTemporalClient } from './temporalConnection';

/** deploy/temporal-server: our Go main, its go.mod (the server version), config template, dynamic config. */
export function serverSourceDir(): string {
  return join(repoRoot(), 'deploy', 'temporal-server');
}

/** The Temporal server version, as deploy/temporal-server/go.mod requires it (e.g. `v1.32.1`). */
export function temporalServerVersion(): string {
  const goMod = readFileSync(join(serverSourceDir(), 'go.mod'), 'utf8');
  const match = /^require go\.temporal\.io\/server (v\d+\.\d+\.\d+)\s*$/m.exec(goMod);
  if (!match) throw new Error('deploy/temporal-server/go.mod has no `require go.temporal.io/server vX.Y.Z` line');
  return match[1];
}

const BINARY = 'ballast-temporal-server';

/** A hash of what the binary is built from; a cached binary from other sources is rebuilt. */
function sourceHash(dir: string): string {
  const hash = createHash('sha256');
  const files = readdirSync(dir)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || (f.endsWith('.go') && !f.endsWith('_test.go')))
    .sort();
  for (const f of files)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(dir, f)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * Returns the path of the server binary for the pinned version: BALLAST_TEMPORAL_SERVER when set,
 * else ~/.cache/ballast/temporal-server/<version>/, built there once (several minutes, with
 * progress) and again only when deploy/temporal-server's Go sources change.
 */
export async function ensureTemporalServer(logger: Logger): Promise<string> {
  const explicit = process.env.BALLAST_TEMPORAL_SERVER;
  if (explicit) return explicit;
  const source = serverSourceDir();
  const version = temporalServerVersion();
  const binDir = join(cacheDir(), 'temporal-server', version);
  const binary = join(binDir, BINARY);
  const stamp = join(binDir, 'source.sha256');
  const wanted = sourceHash(source);
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return binary;

  const go = goBinary();
  if (!go)
    throw new Error(
      'building the Temporal server needs Go (https://go.dev/dl/, or /usr/local/go); or set TEMPORAL_ADDRESS to a running server',
    );
  mkdirSync(binDir, { recursive: true });
  const env = { GOFLAGS: '-mod=readonly' }; // go.sum is committed: the build uses exactly those modules
  const listed = spawnSync(go, ['list', '-deps', '.'], {
    cwd: source,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const packages = listed.status === 0 ? listed.stdout.split('\n').filter(Boolean).length : undefined;
  logger.info(
    { version, into: binDir, packages },
    existsSync(binary)
      ? 'rebuilding the Temporal server: deploy/temporal-server changed (about a minute: only our main package compiles)'
      : 'building the Temporal server from Go modules (first run only: 10 to 30 minutes on 2 cores)',
  );
  const started = Date.now();
  const partial = `${binary}.${process.pid}.partial`;
  await runWithProgress(go, ['build', '-v', '-trimpath', '-o', partial, '.'], {
    cwd: source,
    env,
    label: `building Temporal server ${version}`,
    packages,
  });
  renameSync(partial, binary); // atomic: a build killed half-way never leaves a binary behind
  writeFileSync(stamp, `${wanted}\n`);
  logger.info({ version, seconds: Math.round((Date.now() - started) / 1000) }, 'Temporal server built');
  return binary;
}

export interface TemporalDatabases {
  /** Any URL of the Postgres server to use (its host, port, user and password are taken). */
  readonly postgresUrl: string;
  /** Workflow state (default `temporal`). */
  readonly main: string;
  /** Visibility, the workflow list and search attributes (default `temporal_visibility`). */
  readonly visibility: string;
}

export function defaultTemporalDatabases(postgresUrl: string): TemporalDatabases {
  return {
    postgresUrl,
    main: process.env.BALLAST_TEMPORAL_DB ?? 'temporal',
    visibility: process.env.BALLAST_TEMPORAL_VISIBILITY_DB ?? 'temporal_visibility',
  };
}

function postgresEndpoint(postgresUrl: string) {
  const url = new URL(postgresUrl);
  return {
    host: url.hostname,
    port: url.port || '5432',
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
  };
}

/**
 * Creates the two databases when missing and brings their schemas to the latest version this
 * server ships, with Temporal's own SQL tool (`setup-schema -v 0.0` then `update-schema`), which is
 * idempotent: a database already at the latest version is left as it is.
 */
export async function setupTemporalSchema(binary: string, dbs: TemporalDatabases, logger: Logger): Promise<void> {
  const pg = postgresEndpoint(dbs.postgresUrl);
  for (const [name, schema] of [
    [dbs.main, 'postgresql/v12/temporal'],
    [dbs.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    await ensureDatabase(withDatabase(dbs.postgresUrl, name), logger);
    const common = ['--plugin', 'postgres12', '--endpoint', pg.host, '--port', pg.port, '--user', pg.user, '--database', name];
    for (const step of [
      ['setup-schema', '--version', '0.0'],
      ['update-schema', '--schema-name', schema],
    ]) {
      // The password travels in the environment, not on a command line other users can read.
      const run = spawnSync(binary, ['sql-tool', ...common, ...step], {
        env: { ...process.env, SQL_PASSWORD: pg.password },
        encoding: 'utf8',
      });
      if (run.status !== 0) {
        const why = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').pop() ?? '';
        throw new Error(`Temporal schema ${step[0]} of database ${name} failed (exit ${run.status}): ${why}`);
      }
    }
    logger.debug({ database: name, schema }, 'Temporal schema up to date');
  }
}

/** The ports of the four services (gRPC, and ringpop membership); frontend gRPC is the client address. */
export interface TemporalServerPorts {
  readonly frontend: number;
  readonly frontendHttp: number;
  readonly frontendMembership: number;
  readonly history: number;
  readonly historyMembership: number;
  readonly matching: number;
  readonly matchingMembership: number;
  readonly worker: number;
  readonly workerMembership: number;
  /** The internal frontend, run only with an authorizer (for the server's own callers). */
  readonly internalFrontend: number;
  readonly internalFrontendHttp: number;
  readonly internalFrontendMembership: number;
}

/** Temporal's standard ports (7233 for clients). */
export const DEFAULT_PORTS: TemporalServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  internalFrontend: 7236,
  internalFrontendHttp: 7246,
  internalFrontendMembership: 6936,
};

/**
 * Free loopback ports for every service, so a test server never collides with a running one.
 * Membership ports are stored in a Postgres smallint (cluster_membership.rpc_port), so they must
 * be below 32768, where the system's ephemeral ports (which freePort() hands out) never are.
 */
export async function freeServerPorts(): Promise<TemporalServerPorts> {
  const ports: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_PORTS)) {
    ports[key] = key.endsWith('Membership') ? await freePortBelow(32768, Object.values(ports)) : await freePort();
  }
  return ports as unknown as TemporalServerPorts;
}

async function freePortBelow(limit: number, taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * (limit - 20000));
    if (!taken.includes(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free loopback port between 20000 and ${limit}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export interface TemporalServerOptions {
  readonly binary: string;
  readonly databases: TemporalDatabases;
  readonly ports?: TemporalServerPorts;
  /** The server's own log (zap JSON lines); appended to. */
  readonly logFile: string;
  readonly logger: Logger;
  /** Namespace to register (default `default`). */
  readonly namespace?: string;
  /** Custom search attributes to register in it (the workflows define them: workflows/searchAttributes.ts). */
  readonly searchAttributes?: readonly SearchAttributeSpec[];
  /**
   * Authorization enforced by the server (deploy/temporal-server/authorizer.go): JWTs signed by the
   * keys at `jwksUrl`; `adminToken` is what this function itself calls the server with.
   */
  readonly authorization?: { readonly jwksUrl: string; readonly adminToken: string };
}

export interface TemporalServer {
  readonly address: string;
  readonly historyShards: number;
  stop(): Promise<void>;
}

/** Days a closed workflow's history stays queryable in Temporal; Ballast's own record is Postgres. */
const RETENTION_DAYS = 7;

/**
 * Starts the server on loopback with deploy/temporal-server/config.yaml.tmpl and resolves once its
 * frontend answers, the namespace exists with Ballast's search attributes usable in queries, and
 * the persisted shard count is the configured one.
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const ports = options.ports ?? DEFAULT_PORTS;
  const namespace = options.namespace ?? 'default';
  const env = serverEnvironment(options.databases, ports, options.authorization?.jwksUrl);
  const metadata = options.authorization ? { authorization: `Bearer ${options.authorization.adminToken}` } : undefined;
  const configured = configuredShards(options.binary, env);
  const address = `127.0.0.1:${ports.frontend}`;

  mkdirSync(join(options.logFile, '..'), { recursive: true });
  const log = openSync(options.logFile, 'a');
  // Own process group, as the dev server: a Ctrl-C in the terminal must not stop it before the worker drained.
  const child: ChildProcess = spawn(options.binary, ['start', '--config-file', env.TEMPORAL_SERVER_CONFIG_FILE_PATH], {
    env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const stop = () => stopChild(child, 30_000);

  try {
    await waitFor(
      () => answers(address),
      90_000,
      () => child.exitCode !== null,
      `the Temporal server to answer on ${address}`,
      options.logFile,
    );
    const connection = await connectTemporalClient({ address, metadata });
    try {
      const { historyShardCount } = await connection.workflowService.getClusterInfo({});
      if (historyShardCount !== configured) {
        throw new Error(
          `this cluster's databases (${options.databases.main}) were created with ${historyShardCount} history shards but the config asks for ${configured}; ` +
            "the shard count is fixed for a cluster's life: use new databases (BALLAST_TEMPORAL_DB, BALLAST_TEMPORAL_VISIBILITY_DB) or the old count",
        );
      }
      await ensureNamespace(connection, namespace, options.logger);
      // The services read namespaces (and so search attribute aliases) from a cache refreshed every
      // few seconds: a new namespace is "not found" for a moment, and new attributes unknown.
      await waitFor(
        () =>
          ensureSearchAttributes(address, namespace, options.searchAttributes ?? [], options.logger, metadata).then(
            () => true,
            (err: unknown) => {
              if (isGrpcServiceError(err) && err.code === 5) return false; // the namespace, not yet in the cache
              throw err;
            },
          ),
        30_000,
        () => child.exitCode !== null,
        `namespace ${namespace} to be registered`,
        options.logFile,
      );
      const query = (options.searchAttributes ?? []).map((key) => `${key.name} IS NOT NULL`).join(' AND ');
      await waitFor(
        () =>
          connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 }).then(
            () => true,
            () => false,
          ),
        30_000,
        () => child.exitCode !== null,
        `namespace ${namespace} and its search attributes to be usable`,
        options.logFile,
      );
      options.logger.info(
        { address, historyShards: historyShardCount, databases: [options.databases.main, options.databases.visibility] },
        'Temporal server ready',
      );
      return { address, historyShards: historyShardCount, stop };
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The variables config.yaml.tmpl reads, all set here so nothing leaks in from the caller's shell. */
function serverEnvironment(
  dbs: TemporalDatabases,
  ports: TemporalServerPorts,
  jwksUrl?: string,
): NodeJS.ProcessEnv & { TEMPORAL_SERVER_CONFIG_FILE_PATH: string } {
  const pg = postgresEndpoint(dbs.postgresUrl);
  const shards = process.env.BALLAST_TEMPORAL_HISTORY_SHARDS;
  const env: NodeJS.ProcessEnv & { TEMPORAL_SERVER_CONFIG_FILE_PATH: string } = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: process.env.TZ,
    TEMPORAL_SERVER_CONFIG_FILE_PATH: join(serverSourceDir(), 'config.yaml.tmpl'),
    DYNAMIC_CONFIG_FILE_PATH: join(serverSourceDir(), 'dynamicconfig.yaml'),
    LOG_LEVEL: process.env.BALLAST_TEMPORAL_LOG_LEVEL ?? 'warn',
    BIND_ON_IP: '127.0.0.1',
    POSTGRES_SEEDS: pg.host,
    DB_PORT: pg.port,
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    DBNAME: dbs.main,
    VISIBILITY_DBNAME: dbs.visibility,
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
  };
  if (shards) env.NUM_HISTORY_SHARDS = shards;
  if (jwksUrl) {
    Object.assign(env, {
      TEMPORAL_AUTH_AUTHORIZER: 'ballast',
      TEMPORAL_AUTH_CLAIM_MAPPER: 'ballast',
      TEMPORAL_JWT_KEY_SOURCE1: jwksUrl,
      USE_INTERNAL_FRONTEND: '1',
      INTERNAL_FRONTEND_GRPC_PORT: String(ports.internalFrontend),
      INTERNAL_FRONTEND_HTTP_PORT: String(ports.internalFrontendHttp),
      INTERNAL_FRONTEND_MEMBERSHIP_PORT: String(ports.internalFrontendMembership),
    });
  }
  if (process.env.BALLAST_TEMPORAL_METRICS_ADDRESS) env.PROMETHEUS_ENDPOINT = process.env.BALLAST_TEMPORAL_METRICS_ADDRESS;
  return env;
}

/** The shard count the config renders to (the template's default unless BALLAST_TEMPORAL_HISTORY_SHARDS). */
function configuredShards(binary: string, env: NodeJS.ProcessEnv & { TEMPORAL_SERVER_CONFIG_FILE_PATH: string }): number {
  const run = spawnSync(binary, ['render-config', '--config-file', env.TEMPORAL_SERVER_CONFIG_FILE_PATH], { env, encoding: 'utf8' });
  const match = /numhistoryshards:\s*(\d+)/i.exec(run.stdout ?? '');
  if (run.status !== 0 || !match) {
    throw new Error(
      `the Temporal server config did not render: ${`${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').pop() ?? ''}`,
    );
  }
  return Number(match[1]);
}

async function ensureNamespace(connection: Connection, namespace: string, logger: Logger): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === 5)) throw err; // 5 = NOT_FOUND
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${RETENTION_DAYS} days`),
      description: 'Ballast',
    });
    logger.info({ namespace, retentionDays: RETENTION_DAYS }, 'registered Temporal namespace');
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === 6)) throw err; // 6 = ALREADY_EXISTS: registered concurrently
  }
}

async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  exited: () => boolean,
  what: string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (exited()) throw new Error(`the Temporal server exited while waiting for ${what}: ${lastLogError(logFile)}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (server log: ${logFile})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The last error-level line of the server's log, for an error message that says what went wrong. */
function lastLogError(logFile: string): string {
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  const errors = lines.filter((l) => /"level":"(error|fatal|dpanic|panic)"|Unable to|Error/.test(l));
  return (errors.pop() ?? lines.pop() ?? '').slice(0, 600) + ` (log: ${logFile})`;
}

/** Drops databases a test run created (never the shared `temporal` ones: callers pass per-run names). */
export async function dropTemporalDatabases(dbs: TemporalDatabases): Promise<void> {
  for (const name of [dbs.main, dbs.visibility]) await dropDatabase(withDatabase(dbs.postgresUrl, name));
}
