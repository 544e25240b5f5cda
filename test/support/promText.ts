/**
 * Scrapes a /metrics endpoint and parses the Prometheus text exposition format with
 * parse-prometheus-text-format (a parser, not our own regexes), into lookups the tests read.
 *
 * That parser folds every series of a labelled histogram into one (it keys buckets by `le` alone and
 * drops the labels), so histograms are read a second time with their TYPE line removed: each of
 * `x_bucket`, `x_sum`, `x_count` is then an untyped family whose samples keep all their labels.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value?: string;
  readonly buckets?: Readonly<Record<string, string>>;
  readonly count?: string;
  readonly sum?: string;
}
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly Sample[];
}

export class Scrape {
  readonly families: ReadonlyMap<string, Family>;
  /** Every family with histograms split into their `_bucket`, `_sum` and `_count` series. */
  private readonly series: ReadonlyMap<string, Family>;

  constructor(readonly text: string) {
    const byName = (families: unknown[]): Map<string, Family> => new Map((families as Family[]).map((f) => [f.name, f]));
    this.families = byName(parsePrometheusTextFormat(text));
    this.series = byName(parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')));
  }

  family(name: string): Family {
    const f = this.families.get(name);
    if (!f) throw new Error(`metric ${name} is not exported; exported: ${[...this.families.keys()].join(', ')}`);
    return f;
  }

  /** The samples of `name` (a histogram's `x_bucket`, `x_sum`, `x_count` too) whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    const f = this.series.get(name);
    if (!f) throw new Error(`series ${name} is not exported`);
    return f.metrics.filter((m) => Object.entries(labels).every(([k, v]) => (m.labels ?? {})[k] === v));
  }

  /** The value of the one sample of `name` with `labels` (a counter or gauge). */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.samples(name, labels);
    if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
    return Number(found[0].value);
  }

  /** Every label name used by any exported series. */
  labelNames(filter: (family: string) => boolean = () => true): Set<string> {
    const names = new Set<string>();
    for (const f of this.families.values())
      if (filter(f.name)) for (const m of f.metrics) Object.keys(m.labels ?? {}).forEach((k) => names.add(k));
    return names;
  }
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4'))
    throw new Error(`unexpected content type ${res.headers.get('content-type')}`);
  return new Scrape(await res.text());
}
