/**
 * Lot rounding for SizePosition: an instrument traded in lots (100 shares, 1 contract) can only be
 * ordered in whole lots, so a size is rounded down to one. Pure.
 */

/**
 * Relative slack so that a quantity a hair under a whole number of lots from floating point (2.9999999999
 * lots) counts as that number; the same slack EvaluateTrade grants a size (checks.ts TOLERANCE).
 */
const SLACK = 1e-9;

/** The largest whole number of lots, in units, not above `quantity` (beyond float slack); `quantity` itself without a lot size. */
export function roundDownToLots(quantity: number, lotSize: number | undefined): number {
  if (lotSize === undefined || !(lotSize > 0) || !Number.isFinite(lotSize)) return quantity;
  if (!(quantity > 0)) return 0;
  return Math.floor((quantity / lotSize) * (1 + SLACK)) * lotSize;
}
