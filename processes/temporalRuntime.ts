/**
 * The process's Temporal Runtime (one per process, installed before the first worker or native
 * connection), set up so that Temporal joins the process's own telemetry instead of printing beside it:
 *
 * - Logs: the SDK's logger is an adapter over the process's pino logger, and the Rust core's logs are
 *   forwarded to it (`telemetryOptions.logging.forward`), so workflow, activity, SDK and core lines are
 *   one structured stream, pretty or JSON like every other line (lib/logger.ts).
 * - Metrics: the core's metrics (pollers, task latencies, slots, sticky cache, …) are buffered and
 *   moved into the process's prom-client registry, so the worker has one /metrics endpoint with the
 *   Temporal SDK's series under their usual `temporal_` names next to Ballast's own.
 */
import { type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/common';
import { MetricsBuffer, Runtime, makeTelemetryFilterString, type BufferedMetricUpdate } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type CollectedKind,
  type HistogramCounts,
  type Labels,
  type Sample,
  emptyHistogram,
  histogramSamples,
  observe,
  registerCollected,
} from '../lib/promCollector';

let installed: TemporalMetricsBridge | 'without-metrics' | undefined;

/**
 * Installs the Runtime once per process. With a registry, the core's metrics are exported through it.
 * A process whose Runtime was already installed elsewhere (a test harness) keeps it; its metrics then
 * do not reach the registry, which the returned value says.
 */
export function installTemporalRuntime(logger: Logger, registry?: Registry): { metricsForwarded: boolean } {
  if (installed) return { metricsForwarded: installed !== 'without-metrics' };
  const buffer = registry ? new MetricsBuffer({ maxBufferSize: 50_000, useSecondsForDurations: true }) : undefined;
  try {
    Runtime.install({
      logger: temporalLogger(logger.child({ component: 'temporal' })),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: coreLevel(logger.level), other: 'ERROR' }), forward: {} },
        ...(buffer ? { metrics: { buffer } } : {}),
      },
      // The processes handle SIGINT/SIGTERM themselves and shut the worker down in order.
      shutdownSignals: [],
    });
  } catch (err) {
    logger.debug({ err: (err as Error).message }, 'Temporal Runtime already installed; keeping it');
    installed = 'without-metrics';
    return { metricsForwarded: false };
  }
  installed = buffer && registry ? new TemporalMetricsBridge(buffer, registry) : 'without-metrics';
  return { metricsForwarded: installed !== 'without-metrics' };
}

/** The Temporal SDK's Logger interface over pino. */
function temporalLogger(pino: Logger): TemporalLogger {
  const at: Record<LogLevel, (meta: LogMetadata, message: string) => void> = {
    TRACE: (meta, msg) => pino.trace(meta, msg),
    DEBUG: (meta, msg) => pino.debug(meta, msg),
    INFO: (meta, msg) => pino.info(meta, msg),
    WARN: (meta, msg) => pino.warn(meta, msg),
    ERROR: (meta, msg) => pino.error(meta, msg),
  };
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => at[level](meta ?? {}, message);
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

/** How much the Rust core emits: as much as the process logs, but never its per-poll chatter below INFO unless asked. */
function coreLevel(pinoLevel: string): LogLevel {
  if (pinoLevel === 'trace' || pinoLevel === 'debug') return 'DEBUG';
  if (pinoLevel === 'info') return 'INFO';
  return pinoLevel === 'warn' ? 'WARN' : 'ERROR';
}

/** Seconds: task latencies are ms to s; schedule-to-start and long polls reach a minute. */
const TEMPORAL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DRAIN_INTERVAL_MS = 1_000;

/**
 * One Temporal metric. prom-client's own metric classes fix their label names up front; the core's
 * attributes vary by metric, so the values are kept here and registered as a collected metric.
 */
class ForwardedMetric {
  private readonly series = new Map<string, { labels: Labels; value: number; histogram?: HistogramCounts }>();

  constructor(
    readonly name: string,
    readonly kind: CollectedKind,
  ) {}

  update(u: BufferedMetricUpdate): void {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.attributes)) labels[k] = String(v);
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, value: 0, ...(this.kind === 'histogram' ? { histogram: emptyHistogram(TEMPORAL_BUCKETS) } : {}) };
      this.series.set(key, s);
    }
    if (s.histogram) observe(s.histogram, TEMPORAL_BUCKETS, u.value);
    // Gauges are set; counters and up-down counters arrive as deltas.
    else if (u.metric.kind === 'gauge') s.value = u.value;
    else s.value += u.value;
  }

  samples(): Sample[] {
    return [...this.series.values()].flatMap((s) =>
      s.histogram ? histogramSamples(this.name, s.labels, TEMPORAL_BUCKETS, s.histogram) : [{ labels: s.labels, value: s.value }],
    );
  }
}

/** Drains the core's metric buffer every second (and before each scrape) into the registry. */
class TemporalMetricsBridge {
  private readonly metrics = new Map<string, ForwardedMetric>();

  constructor(
    private readonly buffer: MetricsBuffer,
    private readonly registry: Registry,
  ) {
    setInterval(() => this.drain(), DRAIN_INTERVAL_MS).unref();
  }

  readonly drain = (): void => {
    for (const update of this.buffer.retrieveUpdates()) this.metricFor(update).update(update);
  };

  private metricFor(u: BufferedMetricUpdate): ForwardedMetric {
    const name = u.metric.name.startsWith('temporal_') ? u.metric.name : `temporal_${u.metric.name}`;
    let m = this.metrics.get(name);
    if (!m) {
      const kind: CollectedKind = u.metric.kind === 'histogram' ? 'histogram' : u.metric.kind === 'counter' ? 'counter' : 'gauge';
      const unit = u.metric.unit ? ` (${u.metric.unit === 'duration' ? 'seconds' : u.metric.unit})` : '';
      const metric = new ForwardedMetric(name, kind);
      registerCollected(this.registry, name, `${u.metric.description || `Temporal SDK metric ${name}`}${unit}`, kind, () => {
        this.drain();
        return metric.samples();
      });
      this.metrics.set(name, (m = metric));
    }
    return m;
  }
}
