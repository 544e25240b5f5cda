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
  /** The client order id is in memory but its order could not be compared (its record was evicted): refused. */
  'DUPLICATE_CLIENT_ORDER_ID',
  /** The client order id was approved before for a different order (portfolio, strategy, instrument, side, quantity or price). */
  'CLIENT_ORDER_ID_REUSED',
  'RESTRICTED_INSTRUMENT',
  'BUDGET_STALE',
  // The portfolio already holds the cap of working orders (approved, no final fill/cancel) on this replica.
  'RESERVATION_CAP',
  /** The book's post-trade ex-ante vol would exceed the budget's hard vol limit (risk-reducing orders pass). */
  'VOL_LIMIT',
  /** The strategy's post-trade share of the book's risk would exceed its budget share + tolerance, and the order raises it. */
  'RISK_BUDGET',
  /** The caller or the portfolio sent orders faster than its message throttle allows (token bucket, risk/pretrade/throttle.ts). */
  'ORDER_RATE_THROTTLED',
] as const;

export type Reason = (typeof REASONS)[number];

/** Where a limit applies: the whole portfolio, one strategy, or one (strategy, instrument) pair. */
export const LIMIT_SCOPES = ['PORTFOLIO', 'STRATEGY', 'INSTRUMENT'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

/**
 * What a limit measures, so a client reads `limit`, `current` and `postTrade` in the right unit:
 * notionals in the portfolio's base currency (net signed, its limit on the absolute value), vol as an
 * annualized fraction of capital, risk share as a fraction of the book's risk, price deviation as a
 * fraction of the reference price, working orders and order quantity as counts / units.
 */
export const LIMIT_MEASURES = [
  'ORDER_NOTIONAL',
  'POSITION_NOTIONAL',
  'GROSS_NOTIONAL',
  'NET_NOTIONAL',
  'ORDER_QUANTITY',
  'VOL',
  'RISK_SHARE',
  'PRICE_DEVIATION',
  'WORKING_ORDERS',
] as const;
export type LimitMeasure = (typeof LIMIT_MEASURES)[number];

/**
 * A reason as structured fields, beside the detail sentence: which limit, at which scope, its value,
 * the measure now and after the order (worst case over open reservations, as the check computes it),
 * and whether an operator's override replaced the budget's limit. Reasons that are not a limit
 * (an unknown id, a halt) carry only the reason and scope; numbers a reason has no value for are absent.
 */
export interface Explanation {
  readonly reason: Reason;
  readonly scope: LimitScope;
  /** The strategy of a STRATEGY or INSTRUMENT scope, else ''. */
  readonly strategy: string;
  /** The instrument of an INSTRUMENT scope, else ''. */
  readonly instrument: string;
  readonly measure?: LimitMeasure;
  readonly limit?: number;
  readonly current?: number;
  readonly postTrade?: number;
  readonly overridden: boolean;
}
