/** Request parsing: well-formed messages become typed requests; malformed ones one clear INVALID_ARGUMENT. */
import {
  LimitField,
  type Order,
  type OverrideLimitRequest,
  type ReportFillRequest,
  Side,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import {
  parseFill,
  parseOrder,
  parseOverride,
  parseRebalanceReason,
  parseRequestId,
  recommendationLimit,
  requireId,
  MAX_ID_LENGTH,
} from '../../../grpc/requests';
import { InvalidArgument } from '../../../grpc/status';

const order = (o: Partial<Order> = {}): Order => ({
  portfolioId: 'p1',
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_SELL,
  quantity: 10,
  price: 100,
  clientOrderId: 'o-1',
  ...o,
});

/** The InvalidArgument message `fn` throws (fails the test if it throws anything else or nothing). */
function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as Error).message;
  }
  throw new Error('expected InvalidArgument, nothing was thrown');
}

describe('identifiers', () => {
  test('printable ASCII up to the limit is accepted as is', () => {
    expect(requireId('A-1_b.c:d/e', 'x')).toBe('A-1_b.c:d/e');
    expect(requireId('x'.repeat(MAX_ID_LENGTH), 'x')).toHaveLength(MAX_ID_LENGTH);
  });
  test.each([
    ['', 'order.strategy is required'],
    ['x'.repeat(MAX_ID_LENGTH + 1), 'order.strategy is longer than 128 characters'],
    ['has space', 'order.strategy must be printable ASCII without spaces'],
    ['nul\u0000', 'order.strategy must be printable ASCII without spaces'],
    ['ünïcode', 'order.strategy must be printable ASCII without spaces'],
  ])('%j → %s', (value, message) => expect(invalid(() => requireId(value, 'order.strategy'))).toBe(message));
});

describe('orders', () => {
  test('a well-formed order becomes the typed request the checks take', () => {
    expect(parseOrder(order(), 'required')).toEqual({
      portfolioId: 'p1',
      strategy: 'trend',
      instrument: 'AAPL',
      side: 'SELL',
      quantity: 10,
      price: 100,
      clientOrderId: 'o-1',
    });
  });
  test('zero and negative numbers are left to the checks (a DENY, not an error)', () => {
    expect(parseOrder(order({ quantity: 0, price: -1 }), 'required')).toMatchObject({ quantity: 0, price: -1 });
  });
  test('SizePosition may omit the client order id; EvaluateTrade may not', () => {
    expect(parseOrder(order({ clientOrderId: '' }), 'optional').clientOrderId).toBe('');
    expect(invalid(() => parseOrder(order({ clientOrderId: '' }), 'required'))).toBe('order.client_order_id is required');
    expect(invalid(() => parseOrder(order({ clientOrderId: 'a b' }), 'optional'))).toMatch(/client_order_id must be printable/);
  });
  test.each([
    [undefined, 'order is required'],
    [order({ quantity: NaN }), 'order.quantity must be a finite number, got NaN'],
    [order({ price: Infinity }), 'order.price must be a finite number, got Infinity'],
    [order({ side: Side.SIDE_UNSPECIFIED }), 'side must be SIDE_BUY or SIDE_SELL, got 0'],
    [order({ side: 9 as Side }), 'side must be SIDE_BUY or SIDE_SELL, got 9'],
    [order({ portfolioId: '' }), 'order.portfolio_id is required'],
    [order({ instrument: 'A A' }), 'order.instrument must be printable ASCII without spaces'],
  ])('%# → %s', (o, message) => expect(invalid(() => parseOrder(o, 'required'))).toBe(message));
});

describe('fills', () => {
  const fill = (f: Partial<ReportFillRequest> = {}): ReportFillRequest => ({
    portfolioId: 'p1',
    strategy: 'trend',
    instrument: 'AAPL',
    side: Side.SIDE_BUY,
    clientOrderId: 'o-1',
    fillId: 'f-1',
    quantity: 5,
    price: 101,
    orderDone: false,
    ...f,
  });
  test('a fill and a cancel report (zero quantity) are accepted', () => {
    expect(parseFill(fill())).toEqual({ ...fill(), side: 'BUY' });
    expect(parseFill(fill({ quantity: 0, price: 0, orderDone: true }))).toMatchObject({ quantity: 0, orderDone: true });
  });
  test.each([
    [{ quantity: -1 }, 'quantity must not be negative'],
    [{ quantity: 5, price: 0 }, 'price must be positive for a non-zero fill'],
    [{ price: NaN }, 'price must be a finite number, got NaN'],
    [{ fillId: '' }, 'fill_id is required'],
    [{ side: Side.SIDE_UNSPECIFIED }, 'side must be SIDE_BUY or SIDE_SELL, got 0'],
    // Finite values Postgres cannot multiply and sum (issue 10 §2): refused at the door.
    [{ quantity: 1e-300, price: 1e-300 }, 'quantity 1e-300 is below the smallest accepted magnitude 1e-8 (units)'],
    [{ quantity: 1e300, price: 1e10 }, 'quantity 1e+300 is above the largest accepted magnitude 1000000000000 (units)'],
    [
      { quantity: 1e12, price: 1e9 },
      'fill notional (quantity × price) 1e+21 is above the largest accepted magnitude 1000000000000000 (notional)',
    ],
    [{ price: 1e-9 }, 'price 1e-9 is below the smallest accepted magnitude 1e-8 (per unit)'],
  ])('%j → %s', (f, message) => expect(invalid(() => parseFill(fill(f)))).toBe(message));
});

describe('value ranges (risk/pretrade/ranges.ts) on orders', () => {
  test.each([
    [{ quantity: 1e-300 }, 'order.quantity 1e-300 is below the smallest accepted magnitude 1e-8 (units)'],
    [{ quantity: -1e300 }, 'order.quantity -1e+300 is above the largest accepted magnitude 1000000000000 (units)'],
    [{ price: 1e10 }, 'order.price 10000000000 is above the largest accepted magnitude 1000000000 (per unit)'],
    [
      { quantity: 1e9, price: 1e7 },
      'order notional (quantity × price) 10000000000000000 is above the largest accepted magnitude 1000000000000000 (notional)',
    ],
  ])('%j → %s', (o, message) => expect(invalid(() => parseOrder(order(o), 'required'))).toBe(message));
  test('the extremes of each range are accepted', () => {
    expect(parseOrder(order({ quantity: 1e-8, price: 1e-8 }), 'required')).toMatchObject({ quantity: 1e-8, price: 1e-8 });
    expect(parseOrder(order({ quantity: 1e6, price: 1e9 }), 'required')).toMatchObject({ quantity: 1e6, price: 1e9 });
  });
});

describe('overrides', () => {
  const now = Date.parse('2026-01-05T12:00:00Z');
  const req = (r: Partial<OverrideLimitRequest> = {}): OverrideLimitRequest => ({
    portfolioId: 'p1',
    field: LimitField.LIMIT_FIELD_MAX_GROSS_NOTIONAL,
    value: 700_000,
    strategy: '',
    asset: '',
    reason: ' month end ',
    expiresAt: '2026-01-06T12:00:00+01:00',
    requestedBy: 'desk-head',
    requestId: '',
    ...r,
  });
  test('a valid override carries the caller as approver and a normalised expiry', () => {
    expect(parseOverride(req(), 'risk-ops', now)).toEqual({
      field: 'maxGrossNotional',
      value: 700_000,
      reason: 'month end',
      requestedBy: 'desk-head',
      approver: 'risk-ops',
      expiresAt: '2026-01-06T11:00:00.000Z',
      strategy: undefined,
      asset: undefined,
    });
  });
  test.each([
    [
      { field: LimitField.LIMIT_FIELD_UNSPECIFIED },
      /^field must be one of LIMIT_FIELD_MAX_POSITION_NOTIONAL, .*LIMIT_FIELD_MAX_ORDER_NOTIONAL$/,
    ],
    [{ value: -1 }, /value must not be negative/],
    [{ reason: '  ' }, /reason must be 1\.\.1000 characters/],
    [{ expiresAt: '2026-03-01T00:00:00Z' }, /at most 30 days/],
    [{ expiresAt: 'tomorrow' }, /expiresAt must be an ISO-8601 time/],
    [{ asset: 'AAPL' }, /applies to a strategy or the portfolio, not to an asset/],
    [{ strategy: 'bad id' }, /strategy must be printable ASCII/],
    [{ requestedBy: ' ' }, /requested_by is required/],
    [{ requestedBy: 'risk-ops' }, /may not approve/],
  ])('%j is refused', (r, message) => expect(invalid(() => parseOverride(req(r), 'risk-ops', now))).toMatch(message));
});

test('rebalance reasons are trimmed and bounded; recommendation limits default and cap', () => {
  expect(parseRebalanceReason('  drift  ')).toBe('drift');
  expect(invalid(() => parseRebalanceReason(' '))).toBe('reason must be 1..1000 characters');
  expect(invalid(() => parseRebalanceReason('x'.repeat(1_001)))).toBe('reason must be 1..1000 characters');
  expect([0, -3, 1, 50, 1_000].map(recommendationLimit)).toEqual([10, 10, 1, 50, 100]);
});

test('a control request id is optional, and checked like any id when given', () => {
  expect(parseRequestId('')).toBeUndefined();
  expect(parseRequestId('oms-7f3a')).toBe('oms-7f3a');
  expect(() => parseRequestId('x'.repeat(MAX_ID_LENGTH + 1))).toThrow(InvalidArgument);
  expect(() => parseRequestId('bad\nid')).toThrow(InvalidArgument);
  // What an untyped JavaScript request that leaves the field out sends.
  expect(() => parseRequestId('undefined')).toThrow(/looks like an unset field/);
});
