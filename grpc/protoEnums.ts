/**
 * The gate's closed unions and the proto enums they travel as, through exhaustive tables the compiler
 * checks both ways: each table is typed `Record<union, enum>`, so a value of the union without a code
 * does not compile; each inverse is typed `Record<every defined code, union>`, so a code added to the
 * proto without a value of the union does not compile either.
 */
import type { OverridableLimit } from '../risk/budget';
import type { Side, TradingState } from '../risk/kinds';
import {
  Decision,
  LimitField,
  LimitMeasure as ProtoLimitMeasure,
  LimitScope as ProtoLimitScope,
  ReasonCode,
  Side as ProtoSide,
  TradingState as ProtoTradingState,
} from './generated/ballast/gate/v1/gate';
import type { LimitMeasure, LimitScope, Reason } from '../risk/pretrade/reasons';

/** The codes of an enum that carry a value: all but the proto3 zero value and ts-proto's UNRECOGNIZED. */
type Defined<E, Unspecified> = Exclude<E, Unspecified | -1>;

export const REASON_CODE = {
  UNKNOWN_PORTFOLIO: ReasonCode.REASON_CODE_UNKNOWN_PORTFOLIO,
  NO_BUDGET: ReasonCode.REASON_CODE_NO_BUDGET,
  UNKNOWN_STRATEGY: ReasonCode.REASON_CODE_UNKNOWN_STRATEGY,
  UNKNOWN_INSTRUMENT: ReasonCode.REASON_CODE_UNKNOWN_INSTRUMENT,
  INVALID_QUANTITY: ReasonCode.REASON_CODE_INVALID_QUANTITY,
  INVALID_PRICE: ReasonCode.REASON_CODE_INVALID_PRICE,
  MAX_ORDER_NOTIONAL: ReasonCode.REASON_CODE_MAX_ORDER_NOTIONAL,
  PRICE_COLLAR: ReasonCode.REASON_CODE_PRICE_COLLAR,
  POSITION_LIMIT: ReasonCode.REASON_CODE_POSITION_LIMIT,
  STRATEGY_BUDGET: ReasonCode.REASON_CODE_STRATEGY_BUDGET,
  GROSS_EXPOSURE: ReasonCode.REASON_CODE_GROSS_EXPOSURE,
  NET_EXPOSURE: ReasonCode.REASON_CODE_NET_EXPOSURE,
  TRADING_HALTED: ReasonCode.REASON_CODE_TRADING_HALTED,
  REDUCE_ONLY: ReasonCode.REASON_CODE_REDUCE_ONLY,
  DUPLICATE_CLIENT_ORDER_ID: ReasonCode.REASON_CODE_DUPLICATE_CLIENT_ORDER_ID,
  RESTRICTED_INSTRUMENT: ReasonCode.REASON_CODE_RESTRICTED_INSTRUMENT,
  BUDGET_STALE: ReasonCode.REASON_CODE_BUDGET_STALE,
  RESERVATION_CAP: ReasonCode.REASON_CODE_RESERVATION_CAP,
  VOL_LIMIT: ReasonCode.REASON_CODE_VOL_LIMIT,
  RISK_BUDGET: ReasonCode.REASON_CODE_RISK_BUDGET,
  CLIENT_ORDER_ID_REUSED: ReasonCode.REASON_CODE_CLIENT_ORDER_ID_REUSED,
  ORDER_RATE_THROTTLED: ReasonCode.REASON_CODE_ORDER_RATE_THROTTLED,
} as const satisfies Record<Reason, ReasonCode>;
export const REASON_OF: Readonly<Record<Defined<ReasonCode, ReasonCode.REASON_CODE_UNSPECIFIED>, Reason>> = invert(REASON_CODE);

export const LIMIT_SCOPE_CODE = {
  PORTFOLIO: ProtoLimitScope.LIMIT_SCOPE_PORTFOLIO,
  STRATEGY: ProtoLimitScope.LIMIT_SCOPE_STRATEGY,
  INSTRUMENT: ProtoLimitScope.LIMIT_SCOPE_INSTRUMENT,
} as const satisfies Record<LimitScope, ProtoLimitScope>;
export const LIMIT_SCOPE_OF: Readonly<Record<Defined<ProtoLimitScope, ProtoLimitScope.LIMIT_SCOPE_UNSPECIFIED>, LimitScope>> =
  invert(LIMIT_SCOPE_CODE);

export const LIMIT_MEASURE_CODE = {
  ORDER_NOTIONAL: ProtoLimitMeasure.LIMIT_MEASURE_ORDER_NOTIONAL,
  POSITION_NOTIONAL: ProtoLimitMeasure.LIMIT_MEASURE_POSITION_NOTIONAL,
  GROSS_NOTIONAL: ProtoLimitMeasure.LIMIT_MEASURE_GROSS_NOTIONAL,
  NET_NOTIONAL: ProtoLimitMeasure.LIMIT_MEASURE_NET_NOTIONAL,
  ORDER_QUANTITY: ProtoLimitMeasure.LIMIT_MEASURE_ORDER_QUANTITY,
  VOL: ProtoLimitMeasure.LIMIT_MEASURE_VOL,
  RISK_SHARE: ProtoLimitMeasure.LIMIT_MEASURE_RISK_SHARE,
  PRICE_DEVIATION: ProtoLimitMeasure.LIMIT_MEASURE_PRICE_DEVIATION,
  WORKING_ORDERS: ProtoLimitMeasure.LIMIT_MEASURE_WORKING_ORDERS,
} as const satisfies Record<LimitMeasure, ProtoLimitMeasure>;
export const LIMIT_MEASURE_OF: Readonly<Record<Defined<ProtoLimitMeasure, ProtoLimitMeasure.LIMIT_MEASURE_UNSPECIFIED>, LimitMeasure>> =
  invert(LIMIT_MEASURE_CODE);

export const TRADING_STATE_CODE = {
  ACTIVE: ProtoTradingState.TRADING_STATE_ACTIVE,
  REDUCING: ProtoTradingState.TRADING_STATE_REDUCING,
  HALTED: ProtoTradingState.TRADING_STATE_HALTED,
} as const satisfies Record<TradingState, ProtoTradingState>;
export const TRADING_STATE_OF: Readonly<Record<Defined<ProtoTradingState, ProtoTradingState.TRADING_STATE_UNSPECIFIED>, TradingState>> =
  invert(TRADING_STATE_CODE);

export const SIDE_CODE = { BUY: ProtoSide.SIDE_BUY, SELL: ProtoSide.SIDE_SELL } as const satisfies Record<Side, ProtoSide>;
export const SIDE_OF: Readonly<Record<Defined<ProtoSide, ProtoSide.SIDE_UNSPECIFIED>, Side>> = invert(SIDE_CODE);

export const LIMIT_FIELD_CODE = {
  maxPositionNotional: LimitField.LIMIT_FIELD_MAX_POSITION_NOTIONAL,
  maxGrossNotional: LimitField.LIMIT_FIELD_MAX_GROSS_NOTIONAL,
  maxNetNotional: LimitField.LIMIT_FIELD_MAX_NET_NOTIONAL,
  maxOrderNotional: LimitField.LIMIT_FIELD_MAX_ORDER_NOTIONAL,
} as const satisfies Record<OverridableLimit, LimitField>;
export const LIMIT_FIELD_OF: Readonly<Record<Defined<LimitField, LimitField.LIMIT_FIELD_UNSPECIFIED>, OverridableLimit>> =
  invert(LIMIT_FIELD_CODE);

export const decisionCode = (approved: boolean): Decision => (approved ? Decision.DECISION_APPROVE : Decision.DECISION_DENY);

/** The value of `table` for a code read off the wire, or undefined for the zero value or an unknown number. */
export function lookup<C extends number, V>(table: Readonly<Record<C, V>>, code: number): V | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code as C] : undefined;
}

/** Swaps keys and values; the result's type has exactly the table's values as keys. */
function invert<K extends string, V extends number>(table: Readonly<Record<K, V>>): Record<V, K> {
  const out = {} as Record<V, K>;
  for (const key of Object.keys(table) as K[]) out[table[key]] = key;
  return out;
}
