/**
 * The message throttle (per caller, per portfolio, refill) and the warning level (an approval at 80 %
 * of a limit still approves, carries the limit's figures, and raises one alert per crossing, re-armed
 * when the limit is back below). Pure parts and the gate core with an injected clock.
 */
import { GateCore } from '../../../../grpc/gate';
import type { Explanation } from '../../../../risk/pretrade/reasons';
import { OrderThrottle, parseRateLimit } from '../../../../risk/pretrade/throttle';
import { WarningLatch } from '../../../../risk/pretrade/warnings';
import { fillInto, order, snapshotOf, T0 } from './fixtures';

const clock = { now: T0 };

function core(opts: { throttle?: OrderThrottle; warningLevel?: number; warned?: Explanation[] } = {}): GateCore {
  const c = new GateCore({
    policy: {
      staleReduceAfterMs: 3_600_000,
      staleHaltAfterMs: 4 * 3_600_000,
      restrictedInstruments: new Set(),
      warningLevel: opts.warningLevel,
    },
    clock: () => clock.now,
    reservationTtlMs: 60_000,
    idMemoryMs: 86_400_000,
    throttle: opts.throttle,
    onLimitWarning: (_p, w) => opts.warned?.push(w),
  });
  c.install(snapshotOf());
  return c;
}

beforeEach(() => {
  clock.now = T0 + 60_000;
});

describe('message throttle (token bucket)', () => {
  test('per caller: a burst passes, the next order is throttled, another caller is not', () => {
    const t = new OrderThrottle({ perCaller: { ratePerSecond: 10, burst: 3 } });
    expect([1, 2, 3].map(() => t.admit('oms-a', 'p1', T0))).toEqual([undefined, undefined, undefined]);
    expect(t.admit('oms-a', 'p1', T0)).toBe('caller');
    expect(t.admit('oms-b', 'p1', T0)).toBeUndefined();
  });

  test("per portfolio: callers share the portfolio's bucket; another portfolio has its own", () => {
    const t = new OrderThrottle({ perPortfolio: { ratePerSecond: 1, burst: 2 } });
    expect(t.admit('oms-a', 'p1', T0)).toBeUndefined();
    expect(t.admit('oms-b', 'p1', T0)).toBeUndefined();
    expect(t.admit('oms-c', 'p1', T0)).toBe('portfolio');
    expect(t.admit('oms-c', 'p2', T0)).toBeUndefined();
  });

  test('refill: tokens come back at the rate, never beyond the burst', () => {
    const t = new OrderThrottle({ perCaller: { ratePerSecond: 10, burst: 2 } });
    t.admit('a', 'p1', T0);
    t.admit('a', 'p1', T0);
    expect(t.admit('a', 'p1', T0 + 50)).toBe('caller'); // half a token
    expect(t.admit('a', 'p1', T0 + 100)).toBeUndefined(); // one token after 100 ms
    expect(t.admit('a', 'p1', T0 + 100)).toBe('caller');
    // An hour idle refills to the burst (2), not 36 000.
    const later = T0 + 3_600_000;
    expect([t.admit('a', 'p1', later), t.admit('a', 'p1', later), t.admit('a', 'p1', later)]).toEqual([undefined, undefined, 'caller']);
  });

  test('an order one bucket refuses takes no token from the other', () => {
    const t = new OrderThrottle({ perCaller: { ratePerSecond: 1, burst: 1 }, perPortfolio: { ratePerSecond: 1, burst: 1 } });
    expect(t.admit('a', 'p1', T0)).toBeUndefined();
    expect(t.admit('b', 'p1', T0)).toBe('portfolio'); // b's own bucket keeps its token
    expect(t.admit('b', 'p2', T0)).toBeUndefined();
  });

  test('rate limits parse as RATE or RATE/BURST and refuse nonsense', () => {
    expect(parseRateLimit('500')).toEqual({ ratePerSecond: 500, burst: 500 });
    expect(parseRateLimit('0.5/3')).toEqual({ ratePerSecond: 0.5, burst: 3 });
    expect(() => parseRateLimit('0')).toThrow(/rate/);
    expect(() => parseRateLimit('10/0')).toThrow(/burst/);
    expect(() => parseRateLimit('a/b/c')).toThrow();
  });

  test('the gate denies ORDER_RATE_THROTTLED, reserves nothing, and answers a retry of an approved order from memory', () => {
    const gate = core({ throttle: new OrderThrottle({ perCaller: { ratePerSecond: 1, burst: 1 } }) });
    const first = order({ quantity: 10 });
    expect(gate.evaluate(first, 'oms', 0n).approved).toBe(true);
    const r = gate.evaluate(order({ quantity: 10 }), 'oms', 0n);
    expect(r).toMatchObject({ approved: false, reasons: ['ORDER_RATE_THROTTLED'], version: 1, state: 'ACTIVE' });
    expect(r.explanations).toEqual([
      { reason: 'ORDER_RATE_THROTTLED', scope: 'PORTFOLIO', strategy: '', instrument: '', overridden: false },
    ]);
    expect(gate.book('p1').openReservations).toBe(1);
    expect(gate.evaluate(first, 'oms', 0n)).toMatchObject({ approved: true, replayed: true });
    clock.now += 1000;
    expect(gate.evaluate(order({ quantity: 10 }), 'oms', 0n).approved).toBe(true);
  });
});

describe('warning level', () => {
  // AAPL (ref 100) has a 200 000 position limit: 1 600 units = 80 %.
  test('an approval at 80 % of a limit is still approved and carries the limit as a warning', () => {
    const gate = core();
    expect(gate.evaluate(order({ quantity: 900 }), 'oms', 0n).warnings).toEqual([]);
    const r = gate.evaluate(order({ quantity: 700 }), 'oms', 0n);
    expect(r.approved).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({ reason: 'POSITION_LIMIT', scope: 'INSTRUMENT', limit: 200_000, current: 90_000, postTrade: 160_000 }),
    ]);
    // The hard limit still denies beyond 100 %.
    expect(gate.evaluate(order({ quantity: 401 }), 'oms', 0n).reasons).toEqual(['POSITION_LIMIT']);
  });

  test('the level is configurable, and outside (0, 1) off', () => {
    expect(
      core({ warningLevel: 0.5 })
        .evaluate(order({ quantity: 1000 }), 'oms', 0n)
        .warnings.map((w) => w.reason),
    ).toEqual(['POSITION_LIMIT']);
    expect(core({ warningLevel: 1 }).evaluate(order({ quantity: 1999 }), 'oms', 0n).warnings).toEqual([]);
  });

  test('one crossing raises one alert; orders above the level raise none; back below re-arms it', () => {
    const warned: Explanation[] = [];
    const gate = core({ warned });
    gate.evaluate(order({ quantity: 900 }), 'oms', 0n);
    expect(warned).toEqual([]);
    gate.evaluate(order({ quantity: 800 }), 'oms', 0n);
    gate.evaluate(order({ quantity: 100 }), 'oms', 0n);
    gate.evaluate(order({ quantity: 100 }), 'oms', 0n);
    expect(warned.map((w) => w.reason)).toEqual(['POSITION_LIMIT']);
    expect(gate.warnings.inWarning('p1')).toBe(1);
    // Orders on other limits' scopes do not re-arm it (they did not see its level).
    gate.evaluate(order({ strategy: 'carry', instrument: 'XOM', price: 50, quantity: 10 }), 'oms', 0n);
    expect(gate.warnings.inWarning('p1')).toBe(1);
    // Cancel everything: the next AAPL order sees 5 % and re-arms; crossing again alerts again.
    for (const b of [gate.book('p1')]) b.expire(clock.now + 120_000);
    gate.evaluate(order({ quantity: 50 }), 'oms', 0n);
    expect(gate.warnings.inWarning('p1')).toBe(0);
    gate.evaluate(order({ quantity: 900 }), 'oms', 0n);
    gate.evaluate(order({ quantity: 800 }), 'oms', 0n);
    expect(warned.map((w) => w.reason)).toEqual(['POSITION_LIMIT', 'POSITION_LIMIT']);
  });

  test('a fill that takes the book past the level is alerted by the next approval covering the limit', () => {
    const warned: Explanation[] = [];
    const gate = core({ warned });
    fillInto(gate, 'trend', 'AAPL', 1650, 100);
    expect(warned).toEqual([]);
    gate.evaluate(order({ side: 'SELL', quantity: 10 }), 'oms', 0n);
    // Worst case: the sell may never fill, so the position limit's post-trade value stays at 165 000.
    expect(warned).toEqual([expect.objectContaining({ reason: 'POSITION_LIMIT', postTrade: 165_000 })]);
  });

  test('the latch keys limits by scope: two strategies crossing raise two alerts', () => {
    const latch = new WarningLatch();
    const w = (strategy: string): Explanation => ({
      reason: 'STRATEGY_BUDGET',
      scope: 'STRATEGY',
      strategy,
      instrument: '',
      limit: 1,
      postTrade: 0.9,
      overridden: false,
    });
    const o = (strategy: string) => ({ portfolioId: 'p1', strategy, instrument: 'X' });
    expect(latch.crossings(o('a'), [w('a')])).toHaveLength(1);
    expect(latch.crossings(o('b'), [w('b')])).toHaveLength(1);
    expect(latch.crossings(o('a'), [w('a')])).toHaveLength(0);
    expect(latch.crossings(o('a'), [])).toHaveLength(0);
    expect(latch.inWarning('p1')).toBe(1);
    expect(latch.crossings(o('a'), [w('a')])).toHaveLength(1);
  });
});
