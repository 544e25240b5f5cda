/**
 * SizePosition trims rather than denies. Known answers worked out by hand from fixtures.ts, then a
 * property: over random books, the size returned is approved by EvaluateTrade, and anything 1 % larger
 * is denied for the reason SizePosition named.
 */
import { currency } from '../../../../risk/units';
import fc from 'fast-check';
import { evaluateOrder, sizeOrder, type CheckContext, type OrderRequest } from '../../../../risk/pretrade/checks';
import { ExposureBook } from '../../../../risk/pretrade/exposures';
import { PROPERTY_PAIRS, budget, holding, order, propertyBook, snapshotOf, T0 } from './fixtures';

const policy = { staleReduceAfterMs: 3_600_000, staleHaltAfterMs: 4 * 3_600_000, restrictedInstruments: new Set<string>() };

function context(book: ExposureBook, overrides: Parameters<typeof snapshotOf>[1] = {}): CheckContext {
  const snapshot = snapshotOf(budget(), overrides);
  book.reprice(snapshot);
  return { snapshot, portfolioKnown: true, book, nowMs: T0 + 1_000, policy };
}

describe('known answers', () => {
  test('the full quantity when it fits; no binding limit', () => {
    expect(sizeOrder(order({ quantity: 300 }), context(new ExposureBook('p1')))).toMatchObject({ quantity: 300, binding: undefined });
  });
  test('max order notional binds first: 100k / 100 = 1000 units', () => {
    expect(sizeOrder(order({ quantity: 5_000 }), context(new ExposureBook('p1')))).toMatchObject({
      quantity: 1000,
      binding: 'MAX_ORDER_NOTIONAL',
    });
  });
  test('position limit: holding 1500 at ref 100, room to 200k is 500 units', () => {
    const book = new ExposureBook('p1');
    holding(book, 'trend', 'AAPL', 1500, 100);
    const ctx = context(book);
    expect(sizeOrder(order({ quantity: 900 }), ctx)).toMatchObject({ quantity: 500, binding: 'POSITION_LIMIT' });
    expect(evaluateOrder(order({ quantity: 500 }), ctx).approved).toBe(true);
  });
  test('short side mirrors: with a 1M order override, selling 2500 from flat is capped at 2000 by the 200k position limit', () => {
    const ctx = context(new ExposureBook('p1'), {
      overrides: [{ strategy: null, asset: null, field: 'maxOrderNotional', value: currency(1e6), expiresAtMs: T0 + 3_600_000 }],
    });
    expect(sizeOrder(order({ side: 'SELL', quantity: 2_500 }), ctx)).toMatchObject({ quantity: 2000, binding: 'POSITION_LIMIT' });
  });
  test('a pair-level override tightens one position limit', () => {
    const ctx = context(new ExposureBook('p1'), {
      overrides: [{ strategy: 'trend', asset: 'AAPL', field: 'maxPositionNotional', value: currency(30_000), expiresAtMs: T0 + 3_600_000 }],
    });
    expect(sizeOrder(order({ quantity: 900 }), ctx)).toMatchObject({ quantity: 300, binding: 'POSITION_LIMIT' });
  });
  test('a hard denial sizes to zero and names it', () => {
    expect(sizeOrder(order({ price: 120 }), context(new ExposureBook('p1')))).toMatchObject({ quantity: 0, binding: 'PRICE_COLLAR' });
  });
  test('net exposure: net 440k of 450k leaves 10k = 200 XOM at 50', () => {
    const book = new ExposureBook('p1');
    holding(book, 'trend', 'AAPL', 1900, 100);
    holding(book, 'trend', 'MSFT', 1000, 200);
    holding(book, 'carry', 'XOM', 1000, 50);
    expect(sizeOrder(order({ strategy: 'carry', instrument: 'XOM', quantity: 1_000, price: 50 }), context(book))).toMatchObject({
      quantity: 200,
      binding: 'NET_EXPOSURE',
    });
  });
});

describe('property: size is approved, 1 % more is denied for the named limit', () => {
  test('random positions, reservations, sides and sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2_500, max: 2_500, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: 0, max: 800, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        fc.double({ min: 1, max: 10_000, noNaN: true }),
        fc.constantFrom<'ACTIVE' | 'REDUCING'>('ACTIVE', 'REDUCING'),
        (positions, reserved, which, buy, qty, state) => {
          const book = propertyBook(positions, reserved);
          const [strategy, instrument, ref] = PROPERTY_PAIRS[which];
          const o: OrderRequest = order({ strategy, instrument, price: ref, side: buy ? 'BUY' : 'SELL', quantity: qty });
          const ctx = context(book, { state });
          const sized = sizeOrder(o, ctx);
          expect(sized.quantity).toBeGreaterThanOrEqual(0);
          expect(sized.quantity).toBeLessThanOrEqual(qty);
          if (sized.quantity > 0) expect(evaluateOrder({ ...o, quantity: sized.quantity }, ctx).approved).toBe(true);
          if (sized.binding !== undefined) {
            const bigger = evaluateOrder({ ...o, quantity: sized.quantity * 1.01 + 1e-6 }, ctx);
            expect(bigger.approved).toBe(false);
            expect(bigger.reasons).toContain(sized.binding);
          } else {
            expect(sized.quantity).toBe(qty);
          }
        },
      ),
      { numRuns: 2_000, seed: 20260105 },
    );
  });
});
