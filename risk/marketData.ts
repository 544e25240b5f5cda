/**
 * Where a portfolio's prices come from, and a reference to one bar of them. The loop's activities
 * exchange these small references, never price windows, so workflow histories stay small whatever the
 * number of assets; any worker re-materializes the exact window a reference names.
 */
export type MarketDataSpec = { readonly kind: 'synthetic'; readonly feedId: string } | { readonly kind: 'csv'; readonly path: string };

export interface MarketRef {
  readonly spec: MarketDataSpec;
  /** Index of the last bar (synthetic) or row (CSV) included. */
  readonly lastIndex: number;
  /** Date label of that bar. */
  readonly asOf: string;
}
