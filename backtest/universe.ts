/**
 * Which assets a strategy may hold on a given day, and the price window handed to the production
 * engine. An asset is eligible once it has a full estimation window of history (late listings join
 * when they have `lookbackDays` returns) and a price today; every strategy uses the same rule so the
 * comparison is between allocation policies, not between universes.
 */
import type { RiskConfig } from '../risk/config';
import { sliceTable, type PriceTable } from '../risk/timeseries';
import { fraction } from '../risk/units';
import type { MarketCursor } from './simulator';

export interface Universe {
  /** Positions (in the full table) of the eligible assets. */
  readonly indices: readonly number[];
  /** The last lookbackDays + 1 price rows of the eligible assets, up to today (NaN = missing). */
  readonly window: PriceTable;
}

/**
 * The eligible assets today. `allowed` restricts the universe (the configured strategies' assets) so
 * the static books hold what the dynamic book may hold.
 */
export function eligibleUniverse(market: MarketCursor, lookbackDays: number, allowed?: ReadonlySet<string>): Universe {
  const indices: number[] = [];
  const today = market.today;
  for (let i = 0; i < market.table.assets.length; i++) {
    if (allowed && !allowed.has(market.table.assets[i])) continue;
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

/** Assets the configured strategies may hold; undefined when none are configured (every column). */
export function configuredAssets(config: RiskConfig): ReadonlySet<string> | undefined {
  return config.strategies.length === 0 ? undefined : new Set(config.strategies.flatMap((s) => s.assets));
}

/**
 * The config as of a day: each strategy keeps only its eligible assets; strategies left without any
 * drop out and the remaining strategy budgets are rescaled to sum to 1. Without strategies, unchanged.
 */
export function pointInTimeConfig(config: RiskConfig, universe: Universe): RiskConfig {
  if (config.strategies.length === 0) return config;
  const eligible = new Set(universe.window.assets);
  const kept = config.strategies.map((s) => ({ ...s, assets: s.assets.filter((a) => eligible.has(a)) })).filter((s) => s.assets.length > 0);
  if (kept.length === config.strategies.length && kept.every((s, i) => s.assets.length === config.strategies[i].assets.length))
    return config;
  const total = kept.reduce((sum, s) => sum + s.riskBudget, 0);
  return { ...config, strategies: kept.map((s) => ({ ...s, riskBudget: fraction(s.riskBudget / total) })) };
}
