/**
 * What the operator commands share: where Temporal and the database are (from the environment, with
 * local defaults), a Temporal client and a database pool closed when done, and the help text for both.
 */
import { Client } from '@temporalio/client';
import { DEFAULT_DATABASE_URL, createPool } from '../db/pool';
import { type TemporalEndpoint, connectionOptions, temporalEndpoint } from '../infra/temporalConfig';
import { connectTemporalClient } from '../infra/temporalConnection';

/** The Temporal server and namespace, configured as for the `temporal` CLI (infra/temporalConfig.ts). */
export const temporalTarget = (): TemporalEndpoint => temporalEndpoint();
export const databaseUrl = (): string => process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

/** An environment variable and what it means, for a command's help. */
export type EnvironmentVariable = readonly [name: string, meaning: string];

export const TEMPORAL_VARIABLES: readonly EnvironmentVariable[] = [
  ['TEMPORAL_ADDRESS', "the Temporal frontend (default: the profile's, else 127.0.0.1:7233)"],
  ['TEMPORAL_NAMESPACE', "the Temporal namespace (default: the profile's, else default)"],
  ['TEMPORAL_API_KEY', 'an API key (Temporal Cloud); turns TLS on'],
  ['TEMPORAL_TLS*', 'TLS: TEMPORAL_TLS, _CLIENT_CERT_PATH, _CLIENT_KEY_PATH, _SERVER_CA_CERT_PATH, _SERVER_NAME'],
  ['TEMPORAL_PROFILE', "the profile of the temporal CLI's config file to use (default: default)"],
  ['TEMPORAL_CONFIG_FILE', 'that config file (default: ~/.config/temporalio/temporal.toml)'],
];
export const DATABASE_VARIABLES: readonly EnvironmentVariable[] = [
  ['DATABASE_URL', `the Ballast database (default: ${DEFAULT_DATABASE_URL})`],
];

/** The "Environment:" section of a command's help. */
export function environmentHelp(variables: readonly EnvironmentVariable[]): string {
  const width = Math.max(...variables.map(([name]) => name.length));
  return `\nEnvironment:\n${variables.map(([name, meaning]) => `  ${name.padEnd(width)}  ${meaning}`).join('\n')}\n`;
}

/** A Temporal client on the configured endpoint and namespace, closed when `fn` settles. */
export async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const endpoint = temporalTarget();
  const connection = await connectTemporalClient(connectionOptions(endpoint));
  try {
    return await fn(new Client({ connection, namespace: endpoint.namespace }));
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
