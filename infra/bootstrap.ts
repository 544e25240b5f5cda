/**
 * Brings up what Ballast needs, idempotently: Postgres (DATABASE_URL, the local server, or a private
 * one) with migrations applied, and Temporal (TEMPORAL_ADDRESS, or a dev server we start, persisting
 * to SQLite under the data folder). Nothing is started for a user who provides both addresses.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { repoRoot } from '../lib/paths';
import { ensurePostgres } from './postgres';
import { type DevServer, type DevServerOptions, answers, ensureTemporalCli, startDevServer } from './temporal';

export interface Infrastructure {
  readonly databaseUrl: string;
  readonly temporalAddress: string;
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
  const db = await ensurePostgres({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, logger });
  let server: DevServer | undefined;
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let temporalUiUrl: string | null = null;
  if (!temporalAddress) {
    const port = Number(process.env.BALLAST_TEMPORAL_PORT ?? 7233);
    const uiPort = Number(process.env.BALLAST_TEMPORAL_UI_PORT ?? 8233);
    if (await answers(`127.0.0.1:${port}`)) {
      logger.warn({ address: `127.0.0.1:${port}` }, 'a Temporal server already answers on the default port; using it');
    } else {
      const cli = await ensureTemporalCli(logger);
      server = await startDevServer({ cli, port, uiPort, dbFile: join(dir, 'temporal', 'dev.sqlite'), logger, ...opts });
    }
    temporalAddress = `127.0.0.1:${port}`;
    temporalUiUrl = `http://127.0.0.1:${uiPort}`;
  }
  return {
    databaseUrl: db.databaseUrl,
    temporalAddress,
    temporalUiUrl,
    async shutdown() {
      await server?.stop();
      await db.stop();
    },
  };
}
