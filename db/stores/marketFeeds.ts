/**
 * Synthetic market feeds (the demo's and the tests' market): definition, clock and append-only regime
 * schedule. market/syntheticFeed.ts turns a definition into prices.
 */
import type pg from 'pg';

/** The regimes a synthetic feed can be switched between (the table's CHECK lists the same two). */
export const SYNTHETIC_REGIMES = ['calm', 'crisis'] as const;
export type SyntheticRegime = (typeof SYNTHETIC_REGIMES)[number];

export interface RegimeSwitch {
  readonly fromBar: number;
  readonly regime: SyntheticRegime;
}

export interface FeedDefinition {
  readonly id: string;
  readonly seed: number;
  readonly assets: readonly string[];
  readonly barMs: number;
  readonly epochMs: number;
  /** Sorted by fromBar; the first entry starts at bar 0. */
  readonly schedule: readonly RegimeSwitch[];
}

export interface CreateFeedOptions {
  readonly id: string;
  readonly seed: number;
  readonly assets: readonly string[];
  readonly barMs: number;
  /** Bars of history that exist already when the feed is created (so windows are full at once). */
  readonly historyBars: number;
  /** Regime episodes inside that history (default: calm throughout), e.g. a past crisis for the HMM to learn. */
  readonly pastEpisodes?: readonly RegimeSwitch[];
}

export class FeedStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the feed if it does not exist; an existing feed keeps its definition and history. */
  async ensureFeed(opts: CreateFeedOptions, now = Date.now()): Promise<FeedDefinition> {
    const epoch = new Date(now - opts.historyBars * opts.barMs);
    await this.pool.query(
      `INSERT INTO market_feeds (id, seed, assets, bar_ms, epoch) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING`,
      [opts.id, opts.seed, JSON.stringify(opts.assets), opts.barMs, epoch],
    );
    for (const episode of [{ fromBar: 0, regime: 'calm' as const }, ...(opts.pastEpisodes ?? [])]) {
      if (episode.fromBar >= opts.historyBars)
        throw new Error(`past episode at bar ${episode.fromBar} is not in the ${opts.historyBars}-bar history`);
      await this.pool.query(`INSERT INTO market_feed_regimes (feed_id, from_bar, regime) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        opts.id,
        episode.fromBar,
        episode.regime,
      ]);
    }
    return this.load(opts.id);
  }

  async load(id: string): Promise<FeedDefinition> {
    const feed = await this.pool.query<{ seed: number; assets: string[]; bar_ms: number; epoch: Date }>(
      'SELECT seed, assets, bar_ms, epoch FROM market_feeds WHERE id = $1',
      [id],
    );
    const row = feed.rows[0];
    if (!row) throw new Error(`unknown synthetic feed "${id}"`);
    const regimes = await this.pool.query<{ from_bar: number; regime: SyntheticRegime }>(
      'SELECT from_bar, regime FROM market_feed_regimes WHERE feed_id = $1 ORDER BY from_bar',
      [id],
    );
    const schedule: RegimeSwitch[] = regimes.rows.map((r) => ({ fromBar: r.from_bar, regime: r.regime }));
    return { id, seed: row.seed, assets: row.assets, barMs: row.bar_ms, epochMs: row.epoch.getTime(), schedule };
  }

  /** Switches the feed's regime from the next bar on. Returns that bar. */
  async setRegime(id: string, regime: SyntheticRegime, now = Date.now()): Promise<number> {
    const feed = await this.load(id);
    const fromBar = currentBar(feed, now) + 1;
    await this.pool.query(
      `INSERT INTO market_feed_regimes (feed_id, from_bar, regime) VALUES ($1, $2, $3)
       ON CONFLICT (feed_id, from_bar) DO UPDATE SET regime = EXCLUDED.regime, requested_at = now()`,
      [id, fromBar, regime],
    );
    return fromBar;
  }
}

export function currentBar(feed: Pick<FeedDefinition, 'epochMs' | 'barMs'>, now: number): number {
  return Math.max(0, Math.floor((now - feed.epochMs) / feed.barMs));
}
