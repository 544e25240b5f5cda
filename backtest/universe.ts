/**
 * Which assets a strategy may hold on a given day, and the price window handed to the production
 * engine. An asset is eligible once it has a full estimation window of history (late listings join
 * when they have `lookbackDays` returns) and a price today; every strategy uses the same rule so the
 * comparison is between allocation policies, not between universes.
 */
import { sliceTable, type PriceTable } from '../risk/timeseries';
import type { MarketCursor } from './simulator';

export interface Universe {
  /** Positions (in the full table) of the eligible assets. */
  readonly indices: readonly number[];
  /** The last lookbackDays + 1 price rows of the eligible assets, up to today (NaN = missing). */
  readonly window: PriceTable;
}

export function eligibleUniverse(market: MarketCursor, lookbackDays: number): Universe {
  const indices: number[] = [];
  const today = market.today;
  for (let i = 0; i < market.table.assets.length; i++) {
    if (market.historyLength(i) >= lookbackDays && Number.isFinite(market.table.series[i][today])) indices.push(i);
  }
  const rows = market.priceWindow(lookbackDays + 1);
  const window = sliceTable(rows, { assets: indices.map((i) => market.table.assets[i]) });
  return { indices, window };
}

/** Spreads weights over eligible assets back onto the full table's asset order (zeros elsewhere). */
export function expandWeights(universe: Universe, weights: readonly number[], assetCount: number): number[] {
  const out = new Array<number>(assetCount).fill(0);
  universe.indices.forEach((asset, k) => {
    out[asset] = weights[k];
  });
  return out;
}
