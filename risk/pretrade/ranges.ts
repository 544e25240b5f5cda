/**
 * The numbers the gate accepts, defined once. Anything outside is refused at the door (INVALID_ARGUMENT)
 * so that no request can carry a value that the checks cannot compare or that Postgres cannot store or
 * sum: `double precision` under- and overflows past ~1e-307 / ~1e308, and the fills statement
 * multiplies quantity by price and sums the products of a batch. With every magnitude in
 * [1e-8, 1e12] for units, [1e-8, 1e9] for prices and ≤ 1e15 for a notional, a product is within
 * [1e-16, 1e15] and a sum of a million of them stays below 1e21: far inside both limits, and inside
 * the 15–16 significant digits a double carries for any budget that matters.
 *
 * Zero is not out of range (a zero-quantity fill is a cancel report; a zero or negative order quantity
 * or price is a decision, INVALID_QUANTITY / INVALID_PRICE, made by the checks).
 */
export interface ValueRange {
  /** Smallest accepted non-zero magnitude. */
  readonly min: number;
  /** Largest accepted magnitude. */
  readonly max: number;
  /** What the number is, for the error sentence. */
  readonly unit: string;
}

/** Units of an order or fill: down to a satoshi-like 1e-8, up to a trillion. */
export const QUANTITY_RANGE: ValueRange = { min: 1e-8, max: 1e12, unit: 'units' };
/** A price per unit in the budget's currency. */
export const PRICE_RANGE: ValueRange = { min: 1e-8, max: 1e9, unit: 'per unit' };
/** quantity × price, and any notional an operator sets (overrides). */
export const NOTIONAL_RANGE: ValueRange = { min: 0, max: 1e15, unit: 'notional' };

/** Undefined when `value` is 0 or its magnitude is within `range`; otherwise the sentence saying why not. */
export function outOfRange(value: number, range: ValueRange, field: string): string | undefined {
  if (!Number.isFinite(value)) return `${field} must be a finite number, got ${value}`;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return undefined;
  if (magnitude < range.min) return `${field} ${value} is below the smallest accepted magnitude ${range.min} (${range.unit})`;
  if (magnitude > range.max) return `${field} ${value} is above the largest accepted magnitude ${range.max} (${range.unit})`;
  return undefined;
}
