/**
 * The book as the risk code sees it: positions valued at the budget's reference prices, the prices
 * its limits were computed at (so exposure is measured where the gate measures it).
 */
import type { RiskBudget } from './budget';
import type { Positions } from './triggers';
import { type Currency, currency } from './units';

/** A position as recorded: signed units of an instrument held by one strategy. */
export interface Position {
  readonly strategy: string;
  readonly asset: string;
  readonly quantity: number;
  /** Average fill price, when known. */
  readonly avgPrice: number | null;
}

export interface Holding {
  readonly strategy: string;
  readonly asset: string;
  /** Signed notional: quantity × the budget's reference price (the average cost for an asset the budget lacks). */
  readonly notional: Currency;
}

export function valueHoldings(positions: readonly Position[], budget: RiskBudget): Holding[] {
  const prices = new Map(budget.assets.map((a) => [a.asset, a.referencePrice as number]));
  return positions.map((p) => ({
    strategy: p.strategy,
    asset: p.asset,
    notional: currency(p.quantity * (prices.get(p.asset) ?? p.avgPrice ?? 0)),
  }));
}

/** Signed notional per asset, summed over strategies. */
export function notionalsByAsset(holdings: readonly Holding[]): Positions {
  const out: Record<string, Currency> = {};
  for (const h of holdings) out[h.asset] = currency((out[h.asset] ?? 0) + h.notional);
  return out;
}
