/**
 * Market data for the control loop. Activities exchange small `MarketRef`s (source + last bar), never
 * price windows, so workflow histories stay small whatever the number of assets; any worker can
 * re-materialize the exact window a ref names.
 */
import { statSync } from 'node:fs';
import type pg from 'pg';
import { DataError, type PriceTable, sliceTable } from '../risk/timeseries';
import { readPriceFile } from './csvPrices';
import { FeedStore, type FeedDefinition, currentBar } from './feedStore';
import { SyntheticPriceCache, barDate, regimeAt } from './syntheticFeed';

export type MarketDataSpec = { readonly kind: 'synthetic'; readonly feedId: string } | { readonly kind: 'csv'; readonly path: string };

export interface MarketRef {
  readonly spec: MarketDataSpec;
  /** Index of the last bar (synthetic) or row (CSV) included. */
  readonly lastIndex: number;
  /** Date label of that bar. */
  readonly asOf: string;
}

export class MarketDataService {
  private readonly feeds: FeedStore;
  private readonly synthetic = new Map<string, { signature: string; cache: SyntheticPriceCache; feed: FeedDefinition }>();
  private readonly files = new Map<string, { mtimeMs: number; table: PriceTable }>();

  constructor(
    pool: pg.Pool,
    private readonly clock: () => number = Date.now,
  ) {
    this.feeds = new FeedStore(pool);
  }

  /** The latest bar available now. */
  async observe(spec: MarketDataSpec): Promise<MarketRef> {
    if (spec.kind === 'synthetic') {
      const { feed } = await this.syntheticFeed(spec.feedId);
      const bar = currentBar(feed, this.clock());
      return { spec, lastIndex: bar, asOf: barDate(bar) };
    }
    const table = this.csv(spec.path);
    const last = table.dates.length - 1;
    if (last < 0) throw new DataError(`${spec.path}: no rows`);
    return { spec, lastIndex: last, asOf: table.dates[last] };
  }

  /** The `length` bars ending at the ref's bar, inclusive. */
  async window(ref: MarketRef, length: number): Promise<PriceTable> {
    if (ref.spec.kind === 'synthetic') {
      const { cache } = await this.syntheticFeed(ref.spec.feedId);
      return cache.window(ref.lastIndex, length);
    }
    const table = this.csv(ref.spec.path);
    if (ref.lastIndex >= table.dates.length) throw new DataError(`${ref.spec.path}: row ${ref.lastIndex} no longer exists`);
    const first = Math.max(0, ref.lastIndex - length + 1);
    return sliceTable(table, { start: table.dates[first], end: table.dates[ref.lastIndex] });
  }

  /** For display: the synthetic regime in force at the ref's bar (undefined for CSV sources). */
  async sourceRegime(ref: MarketRef): Promise<string | undefined> {
    if (ref.spec.kind !== 'synthetic') return undefined;
    const { feed } = await this.syntheticFeed(ref.spec.feedId);
    return regimeAt(feed.schedule, ref.lastIndex);
  }

  private async syntheticFeed(feedId: string) {
    const feed = await this.feeds.load(feedId);
    const signature = JSON.stringify(feed.schedule);
    let entry = this.synthetic.get(feedId);
    if (!entry || entry.signature !== signature) {
      entry = { signature, cache: new SyntheticPriceCache(feed), feed };
      this.synthetic.set(feedId, entry);
    }
    return entry;
  }

  private csv(path: string): PriceTable {
    const mtimeMs = statSyncSafe(path);
    const cached = this.files.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.table;
    const table = readPriceFile(path);
    this.files.set(path, { mtimeMs, table });
    return table;
  }
}

function statSyncSafe(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    throw new DataError(`cannot read price file ${path}`);
  }
}
