/**
 * Metrics whose samples are kept by the caller (plain numbers, updated without prom-client on a hot
 * path, or with label sets that vary) and read only when Prometheus scrapes. prom-client serializes
 * any registered object with `get()`; this is that object, and the histogram sample layout.
 */
import type { Registry } from 'prom-client';

export type CollectedKind = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** For a histogram's `_bucket`, `_sum` and `_count` lines. */
  readonly metricName?: string;
}

/** Registers a metric whose samples `collect()` returns at each scrape. */
export function registerCollected(registry: Registry, name: string, help: string, type: CollectedKind, collect: () => Sample[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, aggregator: 'sum', values: collect() }),
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** Counts of observations per bucket (not cumulative; one slot beyond the last bound for +Inf). */
export interface HistogramCounts {
  readonly buckets: number[];
  sum: number;
  count: number;
}

export const emptyHistogram = (bounds: readonly number[]): HistogramCounts => ({
  buckets: new Array<number>(bounds.length + 1).fill(0),
  sum: 0,
  count: 0,
});

export function observe(h: HistogramCounts, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  h.buckets[i]++;
  h.sum += value;
  h.count++;
}

/** The `_bucket` (cumulative, with `le`), `_sum` and `_count` samples of one series. */
export function histogramSamples(name: string, labels: Labels, bounds: readonly number[], h: HistogramCounts): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += h.buckets[i];
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  samples.push({ metricName: `${name}_sum`, labels, value: h.sum });
  samples.push({ metricName: `${name}_count`, labels, value: h.count });
  return samples;
}
