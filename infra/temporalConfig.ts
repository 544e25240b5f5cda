/**
 * Where and how Ballast reaches Temporal, configured exactly as the `temporal` CLI and the SDKs are
 * (@temporalio/envconfig): a profile of the client config file (TEMPORAL_CONFIG_FILE, default
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, default "default"), overridden by the
 * environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
 * TEMPORAL_TLS_CLIENT_CERT_PATH|DATA, TEMPORAL_TLS_CLIENT_KEY_PATH|DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH|DATA,
 * TEMPORAL_TLS_SERVER_NAME, TEMPORAL_GRPC_META_<NAME>. Every process and command uses this one
 * reading, so a namespace or a certificate set once applies to the worker, the gate's controls,
 * `npm start` and every `ballast` command alike.
 */
import { type ClientConnectConfig, loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

type ConnectionOptions = ClientConnectConfig['connectionOptions'];

/** Everything needed to open a client or worker connection to one namespace. */
export interface TemporalEndpoint {
  readonly address: string;
  readonly namespace: string;
  readonly tls?: ConnectionOptions['tls'];
  readonly apiKey?: string;
  readonly metadata?: ConnectionOptions['metadata'];
}

/** The configuration as read: `address` is undefined when neither a profile nor the environment names a server. */
export interface TemporalSettings extends Omit<TemporalEndpoint, 'address'> {
  readonly address: string | undefined;
}

/** A config file or profile that cannot be read, reported with the variable to fix. */
export class TemporalConfigError extends Error {
  override readonly name = 'TemporalConfigError';
}

export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  let config: ClientConnectConfig;
  try {
    const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    config = loadClientConnectConfig({ profile: env.TEMPORAL_PROFILE, overrideEnvVars });
  } catch (err) {
    throw new TemporalConfigError(
      `cannot read the Temporal client configuration (TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE): ${(err as Error).message}`,
    );
  }
  const { address, tls, apiKey, metadata } = config.connectionOptions;
  return {
    address: address || undefined,
    namespace: config.namespace || DEFAULT_NAMESPACE,
    ...(tls !== undefined && tls !== null ? { tls } : {}),
    ...(apiKey ? { apiKey: String(apiKey) } : {}),
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/** The configured endpoint, or `fallbackAddress` (the local default) when none is configured. */
export function temporalEndpoint(env: NodeJS.ProcessEnv = process.env, fallbackAddress = DEFAULT_TEMPORAL_ADDRESS): TemporalEndpoint {
  const settings = loadTemporalSettings(env);
  return { ...settings, address: settings.address ?? fallbackAddress };
}

/** The options both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export function connectionOptions(endpoint: TemporalEndpoint): ConnectionOptions {
  return {
    address: endpoint.address,
    ...(endpoint.tls !== undefined ? { tls: endpoint.tls } : {}),
    ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
    ...(endpoint.metadata ? { metadata: endpoint.metadata } : {}),
  };
}

/** The endpoint of a server given only by address (tests, servers we start): no TLS, the default namespace. */
export const plainEndpoint = (address: string, namespace = DEFAULT_NAMESPACE): TemporalEndpoint => ({ address, namespace });
