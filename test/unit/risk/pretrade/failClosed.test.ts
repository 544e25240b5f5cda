/**
 * Regression tests from a review of the gate's decision logic: each case is an order that an earlier
 * version approved although the committed budget forbade it.
 */
import type { RiskBudget } from '../../../../risk/budget';
import type { GateCore } from '../../../../grpc/gate';
import type { LimitOverride } from '../../../../risk/pretrade/snapshot';
import { currency } from '../../../../risk/units';
import { budget, fillInto, gateCore, order, snapshotOf, T0 } from './fixtures';

const clock = { now: T0 + 60_000 };
let core: GateCore;
const started = () => process.hrtime.bigint();

function install(b: RiskBudget = budget(), overrides: LimitOverride[] = []): void {
  core = gateCore(clock);
  core.install(snapshotOf(b, { overrides }));
}
const fill = (strategy: string, instrument: string, qty: number, price: number): void => fillInto(core, strategy, instrument, qty, price);
const override = (
  field: LimitOverride['field'],
  value: number,
  strategy: string | null = null,
  asset: string | null = null,
): LimitOverride => ({ field, value: currency(value), strategy, asset, expiresAtMs: T0 + 86_400_000 });

test("a portfolio-wide override never replaces a strategy's limit", () => {
  install(budget(), [override('maxGrossNotional', 1_200_000)]);
  fill('trend', 'AAPL', 2000, 100); // 200k
  fill('trend', 'MSFT', 1100, 200); // 220k: trend gross 420k = its limit
  const r = core.evaluate(order({ instrument: 'MSFT', quantity: 100, price: 200 }), 't', started());
  expect(r.approved).toBe(false);
  expect(r.reasons).toEqual(['STRATEGY_BUDGET']);
});

test('a breach on one side may be reduced but never flipped into a breach on the other side', () => {
  install(budget(), [override('maxNetNotional', 20_000), override('maxOrderNotional', 1_000_000)]);
  fill('trend', 'AAPL', -1500, 100); // net −150k, beyond the 20k override on the short side
  // Buying 100k reduces the short breach: allowed.
  expect(core.evaluate(order({ quantity: 1000 }), 't', started()).approved).toBe(true);
  // From −50k (with that order reserved), buying 300k would end at +250k: far beyond +20k.
  const flip = core.evaluate(order({ quantity: 3000 }), 't', started());
  expect(flip.approved).toBe(false);
  expect(flip.reasons).toContain('NET_EXPOSURE');
});

test("a new pair is valued at the budget's reference price, not at the first order's price", () => {
  install();
  // AAPL: reference 100, position limit 200k = 2000 units. The first order comes in 4.99 % below.
  expect(core.evaluate(order({ quantity: 1000, price: 95.01 }), 't', started()).approved).toBe(true);
  const sized = core.size(order({ quantity: 5000, price: 95.01 }), 't', started());
  expect(sized.quantity).toBeCloseTo(1000, 6); // not 1105 (= 200k / 95.01 − 1000)
  expect(sized.binding).toBe('POSITION_LIMIT');
});

test('a missing limit in a malformed budget denies instead of approving', () => {
  const b = budget();
  install({ ...b, limits: { ...b.limits, maxOrderNotional: undefined as never } });
  const r = core.evaluate(order({ quantity: 1 }), 't', started());
  expect(r.approved).toBe(false);
  expect(r.reasons).toContain('MAX_ORDER_NOTIONAL');
  expect(core.size(order({ quantity: 1 }), 't', started()).quantity).toBe(0);
});

test('a done fill naming another pair still releases the reservation where it was made', () => {
  install();
  const o = order({ quantity: 500 });
  expect(core.evaluate(o, 't', started()).approved).toBe(true);
  expect(core.book('p1').pair('trend', 'AAPL')?.reservedBuy).toBe(500);
  core.reportFill({
    portfolioId: 'p1',
    strategy: 'trend',
    instrument: 'MSFT',
    side: 'BUY',
    clientOrderId: o.clientOrderId,
    fillId: 'mismatch',
    quantity: 0,
    price: 200,
    orderDone: true,
  });
  expect(core.book('p1').pair('trend', 'AAPL')?.reservedBuy).toBe(0);
  expect(core.book('p1').openReservations).toBe(0);
});
