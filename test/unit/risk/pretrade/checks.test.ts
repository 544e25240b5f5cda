/**
 * One test per reason code (NautilusTrader RiskEngine style): each builds the smallest state that trips
 * exactly that check and asserts the code, and that a denied EvaluateTrade reserved nothing.
 * Budget numbers are in fixtures.ts: AAPL ref 100 (max position 200k), MSFT ref 200 (250k),
 * XOM ref 50 (150k, strategy carry); trend gross/net 420k/400k; portfolio gross/net 600k/450k;
 * max order 100k; collar 5 %.
 */
import { buildSnapshot } from '../../../../risk/pretrade/snapshot';
import { currency } from '../../../../risk/units';
import type { Reason } from '../../../../risk/pretrade/reasons';
import type { GateCore } from '../../../../grpc/gate';
import { budget, fillInto, gateCore, order, snapshotOf, T0 } from './fixtures';

const clock = { now: T0 };
let core: GateCore;

beforeEach(() => {
  clock.now = T0 + 60_000;
  core = gateCore(clock, { restricted: ['GME'] });
  core.install(snapshotOf());
});

const fill = (strategy: string, instrument: string, qty: number, price: number): void => fillInto(core, strategy, instrument, qty, price);

function expectDenied(o: Parameters<GateCore['evaluate']>[0], reason: Reason): void {
  const before = core.book('p1').openReservations;
  const r = core.evaluate(o, 'test', process.hrtime.bigint());
  expect(r.approved).toBe(false);
  expect(r.reasons).toEqual([reason]);
  expect(r.detail.length).toBeGreaterThan(0);
  expect(core.book('p1').openReservations).toBe(before);
}

describe('EvaluateTrade: one denial per reason code', () => {
  test('a plain order inside every limit is approved and reserved', () => {
    const r = core.evaluate(order(), 'test', process.hrtime.bigint());
    expect(r).toMatchObject({ approved: true, reasons: [], version: 1, state: 'ACTIVE' });
    expect(core.book('p1').openReservations).toBe(1);
  });

  test('UNKNOWN_PORTFOLIO', () => {
    const r = core.evaluate(order({ portfolioId: 'ghost' }), 'test', process.hrtime.bigint());
    expect(r.reasons).toEqual(['UNKNOWN_PORTFOLIO']);
    expect(r.approved).toBe(false);
    expect(core.book('ghost').openReservations).toBe(0);
  });

  test('NO_BUDGET: a known portfolio without a committed budget fails closed', () => {
    core.setKnownPortfolios(new Set(['p1', 'p2']));
    const r = core.evaluate(order({ portfolioId: 'p2' }), 'test', process.hrtime.bigint());
    expect(r).toMatchObject({ approved: false, reasons: ['NO_BUDGET'], state: 'HALTED', version: 0 });
    expect(core.book('p2').openReservations).toBe(0);
  });

  test('UNKNOWN_STRATEGY', () => expectDenied(order({ strategy: 'nope' }), 'UNKNOWN_STRATEGY'));
  test('UNKNOWN_INSTRUMENT: XOM is budgeted for carry, not trend', () => expectDenied(order({ instrument: 'XOM' }), 'UNKNOWN_INSTRUMENT'));
  test('INVALID_QUANTITY: zero and negative', () => {
    expectDenied(order({ quantity: 0 }), 'INVALID_QUANTITY');
    expectDenied(order({ quantity: -5 }), 'INVALID_QUANTITY');
  });
  test('INVALID_QUANTITY: non-finite (defence in depth behind request validation)', () =>
    expectDenied(order({ quantity: NaN }), 'INVALID_QUANTITY'));
  test('INVALID_PRICE', () => expectDenied(order({ price: 0 }), 'INVALID_PRICE'));
  test('MAX_ORDER_NOTIONAL: 1500 × 100 = 150k > 100k', () => expectDenied(order({ quantity: 1500 }), 'MAX_ORDER_NOTIONAL'));
  test('PRICE_COLLAR: 106 is 6 % from the reference 100 (collar 5 %)', () => {
    expectDenied(order({ price: 106 }), 'PRICE_COLLAR');
    expect(core.evaluate(order({ price: 104.9 }), 't', process.hrtime.bigint()).approved).toBe(true);
  });
  test('POSITION_LIMIT: holding 150k, buying 60k more breaches 200k', () => {
    fill('trend', 'AAPL', 1500, 100);
    expectDenied(order({ quantity: 600 }), 'POSITION_LIMIT');
  });
  test('STRATEGY_BUDGET: trend at 410k gross, +20k breaches 420k', () => {
    fill('trend', 'AAPL', 1900, 100);
    fill('trend', 'MSFT', 1100, 200);
    expectDenied(order({ instrument: 'MSFT', quantity: 100, price: 200 }), 'STRATEGY_BUDGET');
  });
  test('GROSS_EXPOSURE: gross 250k (long AAPL, short XOM), override caps gross at 300k, +60k breaches', () => {
    core.install(
      snapshotOf(budget(), {
        version: 2,
        overrides: [{ strategy: null, asset: null, field: 'maxGrossNotional', value: currency(300_000), expiresAtMs: T0 + 600_000 }],
      }),
    );
    fill('trend', 'AAPL', 1500, 100);
    fill('carry', 'XOM', -2000, 50);
    expectDenied(order({ instrument: 'MSFT', quantity: 300, price: 200 }), 'GROSS_EXPOSURE');
    // The override expires; the budget's own 600k applies again.
    clock.now = T0 + 600_001;
    expect(core.evaluate(order({ instrument: 'MSFT', quantity: 300, price: 200 }), 't', process.hrtime.bigint()).approved).toBe(true);
  });
  test('NET_EXPOSURE: net 440k, +20k breaches 450k', () => {
    fill('trend', 'AAPL', 1900, 100);
    fill('trend', 'MSFT', 1000, 200);
    fill('carry', 'XOM', 1000, 50);
    expectDenied(order({ strategy: 'carry', instrument: 'XOM', quantity: 400, price: 50 }), 'NET_EXPOSURE');
  });
  test('TRADING_HALTED denies everything, even reducing orders', () => {
    fill('trend', 'AAPL', 100, 100);
    core.install(snapshotOf(budget(), { version: 2, state: 'HALTED' }));
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'TRADING_HALTED');
  });
  test('REDUCE_ONLY allows only orders that shrink a position without flipping it', () => {
    fill('trend', 'AAPL', 100, 100);
    core.install(snapshotOf(budget(), { version: 2, state: 'REDUCING' }));
    expectDenied(order({ side: 'BUY', quantity: 1 }), 'REDUCE_ONLY');
    expectDenied(order({ side: 'SELL', quantity: 101 }), 'REDUCE_ONLY');
    expect(core.evaluate(order({ side: 'SELL', quantity: 60 }), 't', process.hrtime.bigint()).approved).toBe(true);
    // The pending 60 already used part of the room: only 40 more may be sold.
    expectDenied(order({ side: 'SELL', quantity: 41 }), 'REDUCE_ONLY');
  });
  test('CLIENT_ORDER_ID_REUSED: another order under an approved id (the same order is a retry: grpc retries tests)', () => {
    expect(core.evaluate(order({ clientOrderId: 'dup-1' }), 't', process.hrtime.bigint()).approved).toBe(true);
    expectDenied(order({ clientOrderId: 'dup-1', quantity: 1 }), 'CLIENT_ORDER_ID_REUSED');
  });
  test('DUPLICATE_CLIENT_ORDER_ID: SizePosition of the order already approved under its id sizes 0', () => {
    expect(core.evaluate(order({ clientOrderId: 'dup-2' }), 't', process.hrtime.bigint()).approved).toBe(true);
    expect(core.size(order({ clientOrderId: 'dup-2' }), 't', process.hrtime.bigint())).toMatchObject({
      quantity: 0,
      binding: 'DUPLICATE_CLIENT_ORDER_ID',
    });
  });
  test('RESTRICTED_INSTRUMENT', () => {
    const b = budget();
    core.install(snapshotOf({ ...b, assets: [...b.assets, { ...b.assets[0], asset: 'GME' }] }, { version: 2 }));
    expectDenied(order({ instrument: 'GME' }), 'RESTRICTED_INSTRUMENT');
  });
  test('BUDGET_STALE: normal within the grace period, then reduce-only, then halted', () => {
    fill('trend', 'AAPL', 100, 100);
    clock.now = T0 + 59 * 60_000;
    expect(core.evaluate(order({ quantity: 1 }), 't', process.hrtime.bigint())).toMatchObject({ approved: true, state: 'ACTIVE' });
    clock.now = T0 + 2 * 3_600_000;
    expectDenied(order({ quantity: 1 }), 'BUDGET_STALE');
    expect(core.evaluate(order({ side: 'SELL', quantity: 10 }), 't', process.hrtime.bigint())).toMatchObject({
      approved: true,
      state: 'REDUCING',
    });
    clock.now = T0 + 5 * 3_600_000;
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'BUDGET_STALE');
    expect(core.tradingState('p1')).toBe('HALTED');
  });
  test('BUDGET_STALE counts from the loop heartbeat: an old budget the live loop still confirms is not stale', () => {
    clock.now = T0 + 5 * 3_600_000;
    const b = budget();
    const confirmed = snapshotOf(b, { version: 2 });
    core.install(
      buildSnapshot(
        { portfolioId: b.portfolioId, version: 2, committedAt: new Date(T0).toISOString(), budget: b },
        'ACTIVE',
        [],
        T0 + 4.5 * 3_600_000,
      ),
    );
    expect(confirmed.confirmedAtMs).toBe(T0);
    expect(core.evaluate(order({ quantity: 1 }), 't', process.hrtime.bigint())).toMatchObject({ approved: true, state: 'ACTIVE' });
    clock.now = T0 + 6 * 3_600_000; // heartbeat now 1.5 h old: reduce-only
    expectDenied(order({ quantity: 1 }), 'BUDGET_STALE');
  });
});

test('EvaluateTrade reports every failed check, not only the first', () => {
  fill('trend', 'AAPL', 1500, 100);
  const r = core.evaluate(order({ quantity: 600, price: 110 }), 't', process.hrtime.bigint());
  expect(r.reasons).toEqual(['PRICE_COLLAR', 'POSITION_LIMIT']);
  expect(r.detail).toMatch(/collar.*; post-trade position/);
});

describe('exposures: reservations, fills and breaches', () => {
  test('approved orders reserve capacity; a cancel report releases it', () => {
    expect(core.evaluate(order({ quantity: 1000, clientOrderId: 'a' }), 't', process.hrtime.bigint()).approved).toBe(true);
    expect(core.evaluate(order({ quantity: 1000, clientOrderId: 'b' }), 't', process.hrtime.bigint()).approved).toBe(true);
    expectDenied(order({ quantity: 1 }), 'POSITION_LIMIT');
    core.reportFill({
      portfolioId: 'p1',
      strategy: 'trend',
      instrument: 'AAPL',
      side: 'BUY',
      clientOrderId: 'b',
      fillId: 'c1',
      quantity: 0,
      price: 0,
      orderDone: true,
    });
    expect(core.evaluate(order({ quantity: 1 }), 't', process.hrtime.bigint()).approved).toBe(true);
  });

  test('a fill moves the reservation into the position; a repeated fill id is ignored', () => {
    core.evaluate(order({ quantity: 500, clientOrderId: 'x' }), 't', process.hrtime.bigint());
    const f = {
      portfolioId: 'p1',
      strategy: 'trend',
      instrument: 'AAPL',
      side: 'BUY' as const,
      clientOrderId: 'x',
      fillId: 'x-1',
      quantity: 200,
      price: 100,
      orderDone: false,
    };
    expect(core.reportFill(f)).toMatchObject({ position: 200 });
    expect(core.reportFill(f)).toBeUndefined();
    const e = core.book('p1').pair('trend', 'AAPL')!;
    expect([e.position, e.reservedBuy]).toEqual([200, 300]);
    expect(core.book('p1').portfolio.gross).toBeCloseTo(50_000, 6);
  });

  test('reservations expire after their timeout', () => {
    core.evaluate(order({ quantity: 1000 }), 't', process.hrtime.bigint());
    core.evaluate(order({ quantity: 1000 }), 't', process.hrtime.bigint());
    clock.now += 60_001;
    expect(core.expireReservations()).toBe(2);
    expect(core.book('p1').portfolio.gross).toBeCloseTo(0, 9);
    expect(core.evaluate(order({ quantity: 1000 }), 't', process.hrtime.bigint()).approved).toBe(true);
  });

  test('after a budget shrinks below the position, reducing orders pass and increasing ones do not', () => {
    fill('trend', 'AAPL', 3000, 100);
    expectDenied(order({ quantity: 1 }), 'POSITION_LIMIT');
    expect(core.evaluate(order({ side: 'SELL', quantity: 500 }), 't', process.hrtime.bigint()).approved).toBe(true);
  });
});

describe('reconciliation with the positions table', () => {
  const fillOf = (fillId: string, quantity: number) => ({
    portfolioId: 'p1',
    strategy: 'trend',
    instrument: 'AAPL',
    side: 'BUY' as const,
    clientOrderId: fillId,
    fillId,
    quantity,
    price: 100,
    orderDone: true,
  });

  test('the table replaces in-memory positions; fills reported during the read are added on top', () => {
    core.reportFill(fillOf('r1', 100));
    core.beginReconcile();
    core.reportFill(fillOf('r2', 30)); // arrives while the table is being read: not in the rows below
    core.endReconcile([
      { portfolioId: 'p1', strategy: 'trend', asset: 'AAPL', quantity: 100, avgPrice: 100 },
      { portfolioId: 'p1', strategy: 'trend', asset: 'MSFT', quantity: -50, avgPrice: 190 },
    ]);
    expect(core.book('p1').pair('trend', 'AAPL')!.position).toBe(130);
    expect(core.book('p1').pair('trend', 'MSFT')!.position).toBe(-50);
    // Aggregates are rebuilt at reference prices (MSFT 200, not its 190 average): 130 × 100 + 50 × 200 gross.
    expect(core.book('p1').portfolio.gross).toBeCloseTo(23_000, 9);
    expect(core.book('p1').portfolio.netHigh).toBeCloseTo(3_000, 9);
  });

  test('a pair missing from the table goes flat', () => {
    core.reportFill(fillOf('r3', 100));
    core.beginReconcile();
    core.endReconcile([]);
    expect(core.book('p1').pair('trend', 'AAPL')!.position).toBe(0);
  });
});
