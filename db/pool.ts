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
  return withClient(pool, (client) => transactionOn(client, () => fn(client)));
}

/** Runs `fn` in a transaction on a client already checked out (`withClient`), as `inTransaction` does. */
export async function transactionOn<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Runs `fn` on one client of the pool. A checked-out client whose connection dies emits 'error', which
 * would crash the process with nobody listening: the error is taken here, `fn`'s pending query fails
 * with it, and the client is destroyed instead of going back to the pool.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    // An error without a SQLSTATE is the connection's, not the statement's: do not reuse that client.
    if (typeof (err as { code?: unknown }).code !== 'string') broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
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
