/**
 * Where a portfolio's prices come from, and a reference to one bar of them. The loop's activities
 * exchange these small references, never price windows, so workflow histories stay small whatever the
 * number of assets; any worker re-materializes the exact window a reference names.
 */
export type MarketDataSpec =
  | { readonly kind: 'synthetic'; readonly feedId: string }
  | { readonly kind: 'csv'; readonly path: string }
  /**
   * Daily closes ingested through the gate's IngestCloses RPC (market_closes). A close not received for
   * any instrument within `maxStalenessMs` (default 4 days) makes the cycle fail with a DataError: the
   * failure is alerted, no heartbeat is written, and the gate's staleness rules apply to the last budget.
   */
  | { readonly kind: 'ingested'; readonly instruments: readonly string[]; readonly maxStalenessMs?: number };

export interface MarketRef {
  readonly spec: MarketDataSpec;
  /** Index of the last bar (synthetic) or row (CSV) included. */
  readonly lastIndex: number;
  /** Date label of that bar. */
  readonly asOf: string;
}
