import pg from 'pg';

/** Local Postgres on this machine kind; overridden by DATABASE_URL. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ballast';

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in a transaction, committing on success and rolling back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A pool or a client inside a transaction: store functions that take part in a caller's transaction accept either. */
export type Queryable = pg.Pool | pg.PoolClient;

/** A database the process cannot use: unreachable, refused, or without Ballast's schema. */
export class DatabaseUnusableError extends Error {
  override readonly name = 'DatabaseUnusableError';
}

/** The URL without its password, for messages. */
export const redactedUrl = (url: string): string => url.replace(/:[^:@/]+@/, ':***@');

/**
 * Connects once and checks that Ballast's schema is there, so that a process given a wrong
 * DATABASE_URL refuses to start with one sentence instead of serving and failing every later call.
 */
export async function verifyDatabase(pool: pg.Pool, databaseUrl: string): Promise<void> {
  let schema: string | null;
  try {
    const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('public.budget_versions')::text AS t");
    schema = rows[0].t;
  } catch (err) {
    throw new DatabaseUnusableError(
      `cannot use the database at ${redactedUrl(databaseUrl)}: ${(err as Error).message}; check DATABASE_URL (or --database-url)`,
    );
  }
  if (!schema)
    throw new DatabaseUnusableError(
      `the database at ${redactedUrl(databaseUrl)} has no Ballast schema (no budget_versions table): check DATABASE_URL, or migrate it (\`npm start\` does)`,
    );
}
