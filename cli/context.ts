/**
 * What the operator commands share: where Temporal and the database are (from the environment, with
 * local defaults), a Temporal client and a database pool closed when done, and the help text for both.
 */
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_DATABASE_URL, createPool } from '../db/pool';

export const temporalAddress = (): string => process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
export const temporalNamespace = (): string => process.env.TEMPORAL_NAMESPACE ?? 'default';
export const databaseUrl = (): string => process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

/** An environment variable and what it means, for a command's help. */
export type EnvironmentVariable = readonly [name: string, meaning: string];

export const TEMPORAL_VARIABLES: readonly EnvironmentVariable[] = [
  ['TEMPORAL_ADDRESS', 'the Temporal frontend (default: 127.0.0.1:7233)'],
  ['TEMPORAL_NAMESPACE', 'the Temporal namespace (default: default)'],
];
export const DATABASE_VARIABLES: readonly EnvironmentVariable[] = [
  ['DATABASE_URL', `the Ballast database (default: ${DEFAULT_DATABASE_URL})`],
];

/** The "Environment:" section of a command's help. */
export function environmentHelp(variables: readonly EnvironmentVariable[]): string {
  const width = Math.max(...variables.map(([name]) => name.length));
  return `\nEnvironment:\n${variables.map(([name, meaning]) => `  ${name.padEnd(width)}  ${meaning}`).join('\n')}\n`;
}

/** A Temporal client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, closed when `fn` settles. */
export async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    return await fn(new Client({ connection, namespace: temporalNamespace() }));
  } finally {
    await connection.close();
  }
}

/** The pool db/ builds; commands hand it to the stores they use. */
export type DatabasePool = ReturnType<typeof createPool>;

/** A one-connection pool on DATABASE_URL (or the local default), closed when `fn` settles. */
export async function withDatabase<T>(fn: (pool: DatabasePool) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl(), 1);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
