/**
 * Brings up what Ballast needs, idempotently: Postgres (DATABASE_URL, the local server, or a private
 * one) with migrations applied, and Temporal (TEMPORAL_ADDRESS, or a server we start: the dev server
 * persisting to SQLite under the data folder, or with BALLAST_TEMPORAL=full the full server with its
 * own databases on the same Postgres). Nothing is started for a user who provides both addresses.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { repoRoot } from '../lib/paths';
import { ensurePostgres } from './postgres';
import { type DevServerOptions, answers, ensureTemporalCli, startDevServer } from './temporal';
import { type TemporalEndpoint, loadTemporalSettings } from './temporalConfig';
import { DEFAULT_PORTS, defaultTemporalDatabases, ensureTemporalServer, setupTemporalSchema, startTemporalServer } from './temporalServer';

export interface Infrastructure {
  readonly databaseUrl: string;
  readonly temporalAddress: string;
  /** The address with the configured namespace, TLS and API key (infra/temporalConfig.ts). */
  readonly temporal: TemporalEndpoint;
  /** Temporal Web UI, when we know it. */
  readonly temporalUiUrl: string | null;
  shutdown(): Promise<void>;
}

export function dataDir(): string {
  return process.env.BALLAST_DATA_DIR ?? join(repoRoot(), '.data');
}

/** `searchAttributes`: registered on a dev server we start (the worker also registers any a server lacks). */
export async function bootInfrastructure(logger: Logger, opts: Pick<DevServerOptions, 'searchAttributes'> = {}): Promise<Infrastructure> {
  const dir = dataDir();
  const kind = temporalKind();
  const settings = loadTemporalSettings();
  const port = Number(process.env.BALLAST_TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.BALLAST_TEMPORAL_UI_PORT ?? 8233);
  // A server we do not start keeps its state elsewhere: a private database must never be paired with it.
  const serverAnswering = !settings.address && (await answers(`127.0.0.1:${port}`));
  const externalTemporal = settings.address !== undefined || serverAnswering;
  const db = await ensurePostgres({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, logger, externalTemporal });
  let server: { stop(): Promise<void> } | undefined;
  let temporalAddress = settings.address;
  let temporalUiUrl: string | null = null;
  if (!temporalAddress) {
    if (serverAnswering) {
      logger.warn({ address: `127.0.0.1:${port}` }, 'a Temporal server already answers on the default port; using it');
    } else if (kind === 'full') {
      const binary = await ensureTemporalServer(logger);
      const databases = defaultTemporalDatabases(db.databaseUrl);
      await setupTemporalSchema(binary, databases, logger);
      const logFile = join(dir, 'temporal-server', 'server.log');
      server = await startTemporalServer({
        binary,
        databases,
        ports: { ...DEFAULT_PORTS, frontend: port },
        logFile,
        logger,
        namespace: settings.namespace,
        ...opts,
      });
    } else {
      const cli = await ensureTemporalCli(logger);
      const dbFile = join(dir, 'temporal', 'dev.sqlite');
      server = await startDevServer({ cli, port, uiPort, dbFile, namespace: settings.namespace, logger, ...opts });
    }
    temporalAddress = `127.0.0.1:${port}`;
    // The full server has no web UI of its own (the Temporal UI is a separate server).
    temporalUiUrl = kind === 'dev' ? `http://127.0.0.1:${uiPort}` : null;
  }
  return {
    databaseUrl: db.databaseUrl,
    temporalAddress,
    temporal: { ...settings, address: temporalAddress },
    temporalUiUrl,
    async shutdown() {
      await server?.stop();
      await db.stop();
    },
  };
}

/** Which Temporal server Ballast starts when TEMPORAL_ADDRESS is not given: BALLAST_TEMPORAL=dev (default) or full. */
function temporalKind(): 'dev' | 'full' {
  const kind = process.env.BALLAST_TEMPORAL ?? 'dev';
  if (kind !== 'dev' && kind !== 'full') throw new Error(`BALLAST_TEMPORAL must be "dev" or "full", not "${kind}"`);
  return kind;
}
