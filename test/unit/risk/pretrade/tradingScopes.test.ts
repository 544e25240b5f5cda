/**
 * Trading states per scope, one test per scope and per rule (NautilusTrader RiskEngine style): the
 * portfolio, a strategy and an instrument each HALTED and REDUCING; the most restrictive state wins;
 * cancels, fills and verified risk-reducing orders pass. Budget numbers in fixtures.ts (AAPL and MSFT
 * in strategy trend, XOM in carry).
 */
import type { GateCore } from '../../../../grpc/gate';
import type { TradingState } from '../../../../risk/kinds';
import type { Reason } from '../../../../risk/pretrade/reasons';
import { buildSnapshot, type ScopedState } from '../../../../risk/pretrade/snapshot';
import { budget, fillInto, gateCore, order, T0 } from './fixtures';

const clock = { now: T0 };
let core: GateCore;
let version = 1;

/** Installs the budget with the portfolio's state and the scoped ones. */
function install(portfolio: TradingState, scoped: ScopedState[] = [], committedAtMs = T0): void {
  const b = budget();
  core.install(
    buildSnapshot(
      { portfolioId: 'p1', version: ++version, committedAt: new Date(committedAtMs).toISOString(), budget: b },
      portfolio,
      [],
      undefined,
      undefined,
      scoped,
    ),
  );
}

const strategy = (name: string, state: TradingState): ScopedState => ({ kind: 'strategy', name, state });
const instrument = (name: string, state: TradingState): ScopedState => ({ kind: 'instrument', name, state });
const evaluate = (o: Parameters<GateCore['evaluate']>[0]) => core.evaluate(o, 'test', process.hrtime.bigint());

function expectDenied(o: Parameters<GateCore['evaluate']>[0], reason: Reason, scope: string): void {
  const before = core.book('p1').openReservations;
  const r = evaluate(o);
  expect(r.approved).toBe(false);
  expect(r.reasons).toEqual([reason]);
  expect(r.explanations[0].scope).toBe(scope);
  expect(core.book('p1').openReservations).toBe(before);
}
const expectApproved = (o: Parameters<GateCore['evaluate']>[0]): void => expect(evaluate(o)).toMatchObject({ approved: true, reasons: [] });

beforeEach(() => {
  clock.now = T0 + 60_000;
  core = gateCore(clock);
  install('ACTIVE');
  // Long positions to reduce: 1 000 AAPL (trend), 500 MSFT (trend), 1 000 XOM (carry).
  fillInto(core, 'trend', 'AAPL', 1000, 100);
  fillInto(core, 'trend', 'MSFT', 500, 200);
  fillInto(core, 'carry', 'XOM', 1000, 50);
});

describe('portfolio scope', () => {
  test('HALTED denies every order of the portfolio, reducing ones too (the kill switch)', () => {
    install('HALTED');
    expectDenied(order({ strategy: 'carry', instrument: 'XOM', price: 50 }), 'TRADING_HALTED', 'PORTFOLIO');
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'TRADING_HALTED', 'PORTFOLIO');
  });

  test('REDUCING lets only orders that shrink a position through', () => {
    install('REDUCING');
    expectDenied(order({ quantity: 10 }), 'REDUCE_ONLY', 'INSTRUMENT');
    expectApproved(order({ side: 'SELL', quantity: 10 }));
    expect(evaluate(order({ quantity: 10 })).detail).toContain('portfolio is reducing');
  });
});

describe('strategy scope', () => {
  test("HALTED denies the strategy's orders only, naming the strategy", () => {
    install('ACTIVE', [strategy('trend', 'HALTED')]);
    expectDenied(order({ instrument: 'MSFT', price: 200, side: 'SELL', quantity: 1 }), 'TRADING_HALTED', 'STRATEGY');
    const r = evaluate(order());
    expect(r.detail).toBe('strategy "trend" trading is halted');
    expect(r.explanations[0]).toMatchObject({ reason: 'TRADING_HALTED', scope: 'STRATEGY', strategy: 'trend' });
    expectApproved(order({ strategy: 'carry', instrument: 'XOM', price: 50 }));
  });

  test('REDUCING lets the strategy reduce and the others trade', () => {
    install('ACTIVE', [strategy('trend', 'REDUCING')]);
    expectDenied(order({ quantity: 10 }), 'REDUCE_ONLY', 'INSTRUMENT');
    expect(evaluate(order({ quantity: 10 })).detail).toContain('strategy "trend" is reducing');
    expectApproved(order({ side: 'SELL', quantity: 10 }));
    expectApproved(order({ strategy: 'carry', instrument: 'XOM', price: 50, quantity: 10 }));
  });
});

describe('instrument scope', () => {
  test('HALTED denies the instrument in every strategy, other instruments trade', () => {
    install('ACTIVE', [instrument('AAPL', 'HALTED')]);
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'TRADING_HALTED', 'INSTRUMENT');
    expect(evaluate(order()).explanations[0]).toMatchObject({ scope: 'INSTRUMENT', strategy: 'trend', instrument: 'AAPL' });
    expectApproved(order({ instrument: 'MSFT', price: 200, quantity: 10 }));
  });

  test('REDUCING lets the instrument reduce only', () => {
    install('ACTIVE', [instrument('AAPL', 'REDUCING')]);
    expectDenied(order({ quantity: 10 }), 'REDUCE_ONLY', 'INSTRUMENT');
    expect(evaluate(order({ quantity: 10 })).detail).toContain('instrument "AAPL" is reducing');
    expectApproved(order({ side: 'SELL', quantity: 10 }));
    expectApproved(order({ instrument: 'MSFT', price: 200, quantity: 10 }));
  });
});

describe('most restrictive wins', () => {
  test('a HALTED strategy inside a REDUCING portfolio: halted', () => {
    install('REDUCING', [strategy('trend', 'HALTED')]);
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'TRADING_HALTED', 'STRATEGY');
    expect(evaluate(order({ side: 'SELL', quantity: 10 })).state).toBe('HALTED');
  });

  test('an ACTIVE strategy or instrument does not loosen a HALTED portfolio', () => {
    install('HALTED', [strategy('trend', 'ACTIVE'), instrument('AAPL', 'ACTIVE')]);
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'TRADING_HALTED', 'PORTFOLIO');
  });

  test('a REDUCING instrument in a HALTED strategy: halted; the same instrument in another strategy: reducing', () => {
    install('ACTIVE', [strategy('carry', 'HALTED'), instrument('XOM', 'REDUCING')]);
    expectDenied(order({ strategy: 'carry', instrument: 'XOM', price: 50, side: 'SELL', quantity: 10 }), 'TRADING_HALTED', 'STRATEGY');
    install('ACTIVE', [strategy('trend', 'HALTED'), instrument('XOM', 'REDUCING')]);
    expectApproved(order({ strategy: 'carry', instrument: 'XOM', price: 50, side: 'SELL', quantity: 10 }));
    expectDenied(order({ strategy: 'carry', instrument: 'XOM', price: 50, quantity: 10 }), 'REDUCE_ONLY', 'INSTRUMENT');
  });

  test('a stale budget is stricter than a REDUCING instrument: BUDGET_STALE', () => {
    install('ACTIVE', [instrument('AAPL', 'REDUCING')], T0 - 5 * 3_600_000);
    expectDenied(order({ side: 'SELL', quantity: 10 }), 'BUDGET_STALE', 'PORTFOLIO');
  });
});

describe('what always passes', () => {
  test('a cancel report releases a reservation and a fill moves the position while everything is HALTED', () => {
    expectApproved(order({ quantity: 100, clientOrderId: 'working' }));
    install('HALTED', [strategy('trend', 'HALTED'), instrument('AAPL', 'HALTED')]);
    const report = { portfolioId: 'p1', strategy: 'trend', instrument: 'AAPL', side: 'BUY' as const, clientOrderId: 'working', price: 100 };
    expect(core.reportFill({ ...report, fillId: 'w-1', quantity: 40, orderDone: false })).toMatchObject({ position: 1040 });
    expect(core.reportFill({ ...report, fillId: 'w-2', quantity: 0, orderDone: true })).toMatchObject({ position: 1040 });
    expect(core.book('p1').pair('trend', 'AAPL')!.reservedBuy).toBe(0);
  });

  test('a reducing order passes every REDUCING scope at once', () => {
    install('REDUCING', [strategy('trend', 'REDUCING'), instrument('AAPL', 'REDUCING')]);
    expectApproved(order({ side: 'SELL', quantity: 1000 }));
  });

  test('"reducing" is verified against the book: a sell that would flip the position, or that pending sells already cover, is not', () => {
    install('ACTIVE', [instrument('XOM', 'REDUCING')]);
    const xom = (quantity: number) => order({ strategy: 'carry', instrument: 'XOM', price: 50, side: 'SELL', quantity });
    expectDenied(xom(1001), 'REDUCE_ONLY', 'INSTRUMENT');
    expectApproved(xom(600));
    // 600 of the 1 000 are already being sold: 401 more would take the worst case short.
    expectDenied(xom(401), 'REDUCE_ONLY', 'INSTRUMENT');
    expectApproved(xom(400));
  });
});
