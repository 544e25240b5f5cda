/**
 * Lot rounding: the pure rounding, SizePosition with a lot size in the budget, and a property over
 * random books that the size is the largest whole-lot quantity EvaluateTrade approves (within the request).
 */
import fc from 'fast-check';
import { evaluateOrder, sizeOrder, type CheckContext, type OrderRequest } from '../../../../risk/pretrade/checks';
import { ExposureBook } from '../../../../risk/pretrade/exposures';
import { roundDownToLots } from '../../../../risk/pretrade/lots';
import { PROPERTY_PAIRS, budget, holding, order, propertyBook, snapshotOf, T0 } from './fixtures';

const policy = { staleReduceAfterMs: 3_600_000, staleHaltAfterMs: 4 * 3_600_000, restrictedInstruments: new Set<string>() };

function context(book: ExposureBook, lots: Readonly<Record<string, number>>, state: 'ACTIVE' | 'REDUCING' = 'ACTIVE'): CheckContext {
  const b = budget();
  const snapshot = snapshotOf({ ...b, assets: b.assets.map((a) => ({ ...a, lotSize: lots[a.asset] })) }, { state });
  book.reprice(snapshot);
  return { snapshot, portfolioKnown: true, book, nowMs: T0 + 1_000, policy };
}

describe('roundDownToLots', () => {
  test.each([
    [250, 100, 200],
    [300, 100, 300],
    [299.99999999999, 100, 300],
    [99.9, 100, 0],
    [0, 100, 0],
    [-5, 100, 0],
    [1.3, 0.25, 1.25],
    [7.5, undefined, 7.5],
    [7.5, 0, 7.5],
  ])('%p units in lots of %p: %p', (quantity, lot, expected) => {
    expect(roundDownToLots(quantity, lot)).toBeCloseTo(expected, 9);
  });
});

describe('SizePosition with lot sizes', () => {
  test('the limit binds at 500 units; in lots of 150 the answer is 450, the limit still named', () => {
    const book = new ExposureBook('p1');
    holding(book, 'trend', 'AAPL', 1_500, 100);
    expect(sizeOrder(order({ quantity: 900 }), context(book, { AAPL: 150 }))).toMatchObject({ quantity: 450, binding: 'POSITION_LIMIT' });
  });
  test('a request that fits but is not whole lots is rounded down, with no binding limit', () => {
    const sized = sizeOrder(order({ quantity: 450 }), context(new ExposureBook('p1'), { AAPL: 100 }));
    expect(sized).toMatchObject({ quantity: 400, binding: undefined, detail: 'rounded down to whole lots of 100' });
  });
  test('less than one lot of room: 0', () => {
    const book = new ExposureBook('p1');
    holding(book, 'trend', 'AAPL', 1_950, 100);
    expect(sizeOrder(order({ quantity: 900 }), context(book, { AAPL: 100 })).quantity).toBe(0);
  });
  test('other instruments keep unrounded sizes', () => {
    expect(
      sizeOrder(
        order({ strategy: 'trend', instrument: 'MSFT', price: 200, quantity: 333.3 }),
        context(new ExposureBook('p1'), { AAPL: 100 }),
      ).quantity,
    ).toBe(333.3);
  });
});

describe('property: the size is the largest whole-lot quantity that passes', () => {
  test('random positions, reservations, sides, sizes and lot sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2_500, max: 2_500, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: 0, max: 800, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        fc.double({ min: 1, max: 10_000, noNaN: true }),
        fc.constantFrom(1, 7, 25, 100, 0.5, 0.01),
        fc.constantFrom<'ACTIVE' | 'REDUCING'>('ACTIVE', 'REDUCING'),
        (positions, reserved, which, buy, qty, lot, state) => {
          const book = propertyBook(positions, reserved);
          const [strategy, instrument, ref] = PROPERTY_PAIRS[which];
          const o: OrderRequest = order({ strategy, instrument, price: ref, side: buy ? 'BUY' : 'SELL', quantity: qty });
          const ctx = context(book, { [instrument]: lot }, state);
          const sized = sizeOrder(o, ctx).quantity;
          const lots = sized / lot;
          expect(Math.abs(lots - Math.round(lots))).toBeLessThan(1e-6);
          expect(sized).toBeLessThanOrEqual(qty);
          if (sized > 0) expect(evaluateOrder({ ...o, quantity: sized }, ctx).approved).toBe(true);
          const next = sized + lot;
          if (next <= qty) expect(evaluateOrder({ ...o, quantity: next }, ctx).approved).toBe(false);
        },
      ),
      { numRuns: 2_000, seed: 20261129 },
    );
  });
});
