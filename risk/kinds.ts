/**
 * The closed sets of kinds and states that cross layers (loop, gate, stores, console), each defined
 * once with its list of values, so a switch over one is checked for exhaustiveness by the compiler and
 * a value read from outside (SQL, JSON, a request) is checked against the same list.
 */

/** The side of an order or a fill. */
export const SIDES = ['BUY', 'SELL'] as const;
export type Side = (typeof SIDES)[number];

/** What the gate lets a portfolio do. Most restrictive wins when several apply. */
export const TRADING_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export type TradingState = (typeof TRADING_STATES)[number];
export const TRADING_STATE_SEVERITY: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export const isTradingState = (value: unknown): value is TradingState => (TRADING_STATES as readonly unknown[]).includes(value);

/** The stricter of two trading states. */
export const stricterState = (a: TradingState, b: TradingState): TradingState =>
  TRADING_STATE_SEVERITY[a] >= TRADING_STATE_SEVERITY[b] ? a : b;
