/** The tables between the gate's closed unions and the proto enums: total and one-to-one, both ways. */
import { LimitField, LimitMeasure, LimitScope, ReasonCode, Side, TradingState } from '../../../grpc/generated/ballast/gate/v1/gate';
import {
  LIMIT_FIELD_CODE,
  LIMIT_FIELD_OF,
  LIMIT_MEASURE_CODE,
  LIMIT_MEASURE_OF,
  LIMIT_SCOPE_CODE,
  LIMIT_SCOPE_OF,
  lookup,
  REASON_CODE,
  REASON_OF,
  SIDE_CODE,
  SIDE_OF,
  TRADING_STATE_CODE,
  TRADING_STATE_OF,
} from '../../../grpc/protoEnums';
import { LIMIT_MEASURES, LIMIT_SCOPES, REASONS } from '../../../risk/pretrade/reasons';
import { OVERRIDABLE_LIMITS } from '../../../risk/budget';
import { SIDES, TRADING_STATES } from '../../../risk/kinds';

/** The numeric codes of a ts-proto enum that carry a value (not the zero value, not UNRECOGNIZED). */
const definedCodes = (e: Record<string, string | number>): number[] =>
  Object.values(e).filter((v): v is number => typeof v === 'number' && v > 0);

test.each([
  ['reason', REASONS, REASON_CODE, REASON_OF, ReasonCode],
  ['trading state', TRADING_STATES, TRADING_STATE_CODE, TRADING_STATE_OF, TradingState],
  ['side', SIDES, SIDE_CODE, SIDE_OF, Side],
  ['limit field', OVERRIDABLE_LIMITS, LIMIT_FIELD_CODE, LIMIT_FIELD_OF, LimitField],
  ['limit scope', LIMIT_SCOPES, LIMIT_SCOPE_CODE, LIMIT_SCOPE_OF, LimitScope],
  ['limit measure', LIMIT_MEASURES, LIMIT_MEASURE_CODE, LIMIT_MEASURE_OF, LimitMeasure],
] as const)('every %s has a code and every code one %s', (_name, values, toCode, fromCode, protoEnum) => {
  const codes = definedCodes(protoEnum as unknown as Record<string, string | number>);
  const forward = toCode as Readonly<Record<string, number>>;
  const inverse = fromCode as Readonly<Record<number, string>>;
  // Each value maps to a distinct defined code, and the codes used are exactly the defined ones.
  expect(values.map((v) => forward[v]).sort((a, b) => a - b)).toEqual(codes.sort((a, b) => a - b));
  for (const v of values) expect(inverse[forward[v]]).toBe(v);
  for (const c of codes) expect(forward[inverse[c]]).toBe(c);
});

test('reason codes keep the names the proto gives them (the audit stores the names)', () => {
  for (const r of REASONS) expect(ReasonCode[REASON_CODE[r]]).toBe(`REASON_CODE_${r}`);
});

test('lookup answers undefined for the zero value, UNRECOGNIZED and numbers off the wire', () => {
  expect(lookup(SIDE_OF, Side.SIDE_BUY)).toBe('BUY');
  for (const code of [0, -1, 7, 1.5, NaN]) expect(lookup(SIDE_OF, code)).toBeUndefined();
  expect(lookup(REASON_OF, ReasonCode.REASON_CODE_UNSPECIFIED)).toBeUndefined();
});
