/**
 * Why the gate denies an order (or, in SizePosition, which limit bound its size): a closed set, one
 * reason per check (grpc/checks.ts). The names are what the audit trail stores; the proto codes they
 * map to are in grpc/protoEnums.ts.
 */
export const REASONS = [
  'UNKNOWN_PORTFOLIO',
  'NO_BUDGET',
  'UNKNOWN_STRATEGY',
  'UNKNOWN_INSTRUMENT',
  'INVALID_QUANTITY',
  'INVALID_PRICE',
  'MAX_ORDER_NOTIONAL',
  'PRICE_COLLAR',
  'POSITION_LIMIT',
  'STRATEGY_BUDGET',
  'GROSS_EXPOSURE',
  'NET_EXPOSURE',
  'TRADING_HALTED',
  'REDUCE_ONLY',
  'DUPLICATE_CLIENT_ORDER_ID',
  'RESTRICTED_INSTRUMENT',
  'BUDGET_STALE',
  // The portfolio already holds the cap of working orders (approved, no final fill/cancel) on this replica.
  'RESERVATION_CAP',
  /** The book's post-trade ex-ante vol would exceed the budget's hard vol limit (risk-reducing orders pass). */
  'VOL_LIMIT',
  /** The strategy's post-trade share of the book's risk would exceed its budget share + tolerance, and the order raises it. */
  'RISK_BUDGET',
] as const;

export type Reason = (typeof REASONS)[number];
