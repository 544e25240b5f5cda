/**
 * Creates the database when missing and applies the versioned SQL migrations in db/migrations with
 * node-pg-migrate (which takes an advisory lock, so concurrent starters are safe).
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { importEsm } from '../lib/esm';
import { repoRoot } from '../lib/paths';

/** `url` naming database `name` instead (same server, user and options). */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Runs `fn` on a connection to the server's maintenance database (`postgres`), with the target
 * database's name from `databaseUrl`, validated because it is spliced into DDL.
 */
async function withMaintenanceDb<T>(databaseUrl: string, fn: (admin: pg.Client, name: string) => Promise<T>): Promise<T> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be alphanumeric/underscore`);
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    return await fn(admin, name);
  } finally {
    await admin.end();
  }
}

export async function ensureDatabase(databaseUrl: string, logger?: Logger): Promise<void> {
  await withMaintenanceDb(databaseUrl, async (admin, name) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return;
    logger?.info({ database: name }, 'creating database');
    await admin.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created concurrently by another starter
    });
  });
}

/** True when the server at `databaseUrl` accepts a connection to its maintenance database (within 2 s). */
export async function reachable(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres'), connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  await withMaintenanceDb(databaseUrl, (admin, name) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

interface MigrationRunner {
  runner(options: Record<string, unknown>): Promise<{ name: string }[]>;
}

export async function migrate(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const { runner } = await importEsm<MigrationRunner>('node-pg-migrate');
  const applied = await runner({
    databaseUrl,
    dir: join(repoRoot(), 'db', 'migrations'), // the SQL files stay in the source tree
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: false,
    count: Number.POSITIVE_INFINITY,
    log: (msg: string) => logger?.debug(msg),
    logger: { debug: () => undefined, info: () => undefined, warn: (m: string) => logger?.warn(m), error: (m: string) => logger?.error(m) },
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) logger?.info({ migrations: names }, 'applied database migrations');
  return names;
}
