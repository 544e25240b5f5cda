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
      logger: temporalLogger(logger.child({ name: 'temporal' })),
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

type Kind = 'counter' | 'gauge' | 'histogram';
interface Series {
  readonly labels: Record<string, string>;
  value: number;
  buckets?: number[];
  sum?: number;
}

/**
 * One Temporal metric in the registry. prom-client's own metric classes fix their label names up
 * front; the core's attributes vary by metric, so each is exposed through prom-client's collector
 * interface (`get()`), with the values kept here.
 */
class ForwardedMetric {
  readonly aggregator = 'sum';
  readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Kind,
    private readonly drain: () => void,
  ) {}

  update(u: BufferedMetricUpdate): void {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.attributes)) labels[k] = String(v);
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, value: 0, ...(this.type === 'histogram' ? { buckets: TEMPORAL_BUCKETS.map(() => 0), sum: 0 } : {}) };
      this.series.set(key, s);
    }
    if (this.type === 'gauge' && u.metric.kind === 'gauge') s.value = u.value;
    else if (this.type !== 'histogram') s.value += u.value;
    else {
      s.value += 1;
      s.sum! += u.value;
      const i = TEMPORAL_BUCKETS.findIndex((b) => u.value <= b);
      if (i >= 0) s.buckets![i] += 1;
    }
  }

  get(): { name: string; help: string; type: Kind; aggregator: string; values: object[] } {
    this.drain();
    const values: object[] = [];
    for (const s of this.series.values()) {
      if (this.type !== 'histogram') {
        values.push({ labels: s.labels, value: s.value });
        continue;
      }
      let cumulative = 0;
      TEMPORAL_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets![i];
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.value });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
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
      const type: Kind = u.metric.kind === 'histogram' ? 'histogram' : u.metric.kind === 'counter' ? 'counter' : 'gauge';
      const unit = u.metric.unit ? ` (${u.metric.unit === 'duration' ? 'seconds' : u.metric.unit})` : '';
      m = new ForwardedMetric(name, `${u.metric.description || `Temporal SDK metric ${name}`}${unit}`, type, this.drain);
      this.metrics.set(name, m);
      this.registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
    }
    return m;
  }
}
