/**
 * Market data for the control loop: the latest bar of a source (`observe`) and the window of bars a
 * `MarketRef` names (`window`), from CSV price files (re-read when they change) or synthetic feeds.
 */
import { statSync } from 'node:fs';
import { type FeedDefinition, type FeedStore, currentBar } from '../db/stores/marketFeeds';
import type { MarketCloseStore } from '../db/stores/marketCloses';
import type { MarketDataSpec, MarketRef } from '../risk/marketData';
import { DataError, type PriceTable, sliceTable } from '../risk/timeseries';
import { readPriceFile } from './csvPrices';
import { SyntheticPriceCache, barDate, regimeAt } from './syntheticFeed';

export class MarketDataService {
  private readonly synthetic = new Map<string, { signature: string; cache: SyntheticPriceCache; feed: FeedDefinition }>();
  private readonly files = new Map<string, { mtimeMs: number; table: PriceTable }>();

  constructor(
    private readonly feeds: FeedStore,
    private readonly clock: () => number = Date.now,
    private readonly closes?: MarketCloseStore,
  ) {}

  /** The latest bar available now. */
  async observe(spec: MarketDataSpec): Promise<MarketRef> {
    if (spec.kind === 'synthetic') {
      const { feed } = await this.syntheticFeed(spec.feedId);
      const bar = currentBar(feed, this.clock());
      return { spec, lastIndex: bar, asOf: barDate(bar) };
    }
    if (spec.kind === 'ingested') {
      const table = await this.ingested(spec, { checkStaleness: true });
      const last = table.dates.length - 1;
      return { spec, lastIndex: last, asOf: table.dates[last] };
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
    if (ref.spec.kind === 'ingested') {
      // By date, not index: closes may arrive after the ref (appended) without moving its window.
      const table = await this.ingested(ref.spec, { checkStaleness: false });
      const end = table.dates.filter((d) => d <= ref.asOf).length - 1;
      if (end < 0) throw new DataError(`no ingested closes up to ${ref.asOf}`);
      return sliceTable(table, { start: table.dates[Math.max(0, end - length + 1)], end: table.dates[end] });
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

  /** The instruments' ingested closes as a daily table (UTC dates); NaN where an instrument has no close that day. */
  private async ingested(
    spec: Extract<MarketDataSpec, { kind: 'ingested' }>,
    opts: { readonly checkStaleness: boolean },
  ): Promise<PriceTable> {
    if (!this.closes) throw new DataError('this worker has no store of ingested closes');
    const instruments = [...spec.instruments];
    if (opts.checkStaleness) {
      const received = await this.closes.lastReceived(instruments);
      const missing = instruments.filter((i) => !received.has(i));
      if (missing.length > 0) throw new DataError(`no closes ingested for ${missing.join(', ')}`);
      const maxStalenessMs = spec.maxStalenessMs ?? 4 * 86_400_000;
      const stale = instruments.filter((i) => this.clock() - (received.get(i) as Date).getTime() > maxStalenessMs);
      if (stale.length > 0)
        throw new DataError(`stale market data: no close received for ${stale.join(', ')} in ${Math.round(maxStalenessMs / 3_600_000)} h`);
    }
    const rows = await this.closes.closes(instruments);
    const dates = [...new Set(rows.map((r) => r.at.toISOString().slice(0, 10)))].sort();
    const row = new Map(dates.map((d, i) => [d, i]));
    const series = instruments.map(() => new Float64Array(dates.length).fill(Number.NaN));
    const column = new Map(instruments.map((a, j) => [a, j]));
    for (const r of rows) series[column.get(r.instrument) as number][row.get(r.at.toISOString().slice(0, 10)) as number] = r.close;
    if (dates.length === 0) throw new DataError(`no closes ingested for ${instruments.join(', ')}`);
    return { dates, assets: instruments, series };
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
