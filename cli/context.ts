/** What the operator commands share: a Temporal client, a database pool, JSON output. */
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { DEFAULT_DATABASE_URL, createPool } from '../db/pool';

/** A Temporal client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, closed when `fn` settles. */
export async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  try {
    return await fn(new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }));
  } finally {
    await connection.close();
  }
}

/** A one-connection pool on DATABASE_URL (or the local default), closed when `fn` settles. */
export async function withDatabase<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, 1);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
