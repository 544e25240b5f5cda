/** The /metrics flags `ballast gate`, `ballast worker` and `ballast start` share. */
import type { Command } from 'commander';
import { DEFAULT_METRICS_HOST, type MetricsListen } from '../processes/metricsEndpoint';
import { integer, option } from './flags';

export interface MetricsFlags {
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** False with --no-metrics. */
  readonly metrics: boolean;
}

export function addMetricsOptions(command: Command, defaultPort: number): Command {
  return command
    .addOption(
      option('--metrics-host <host>', 'the interface the Prometheus /metrics endpoint listens on')
        .env('BALLAST_METRICS_HOST')
        .default(DEFAULT_METRICS_HOST),
    )
    .addOption(
      option('--metrics-port <port>', 'the TCP port of the /metrics endpoint (0: any free port)', integer(0, 65_535))
        .env('BALLAST_METRICS_PORT')
        .default(defaultPort),
    )
    .option('--no-metrics', 'serve no /metrics endpoint');
}

/** Where to listen, or undefined with --no-metrics. */
export const metricsListen = (flags: MetricsFlags): MetricsListen | undefined =>
  flags.metrics ? { host: flags.metricsHost, port: flags.metricsPort } : undefined;
