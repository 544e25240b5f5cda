/**
 * Each Ballast process has one Prometheus registry and one /metrics endpoint: Node's process metrics
 * (prom-client's defaults: CPU, memory, heap, event loop lag, GC), plus whatever the process runs —
 * the gate's (grpc/metrics.ts), the worker's (workerMetrics.ts) and the Temporal SDK's
 * (temporalRuntime.ts). `ballast start` runs the gate and the worker in one process: one endpoint.
 */
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { type MetricsEndpoint, serveMetrics } from '../lib/metricsServer';

export interface MetricsListen {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
}

/** Loopback by default: metrics name portfolios and budget versions. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_GATE_METRICS_PORT = 9464;
export const DEFAULT_WORKER_METRICS_PORT = 9465;

export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export async function exposeMetrics(registry: Registry, listen: MetricsListen, logger: Logger): Promise<MetricsEndpoint> {
  const endpoint = await serveMetrics(registry, listen.host, listen.port);
  logger.info({ url: endpoint.url }, 'metrics endpoint listening');
  return endpoint;
}
