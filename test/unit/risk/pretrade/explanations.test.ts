/**
 * Denials that explain themselves: one test per reason (NautilusTrader RiskEngine style) asserting the
 * structured fields each reason carries beside its sentence: the limit, its scope, the measure now and
 * after the order, and whether an override was in force. (VOL_LIMIT and RISK_BUDGET: riskChecks.test.ts.)
 * Budget numbers in fixtures.ts: AAPL ref 100 (max position 200k), MSFT ref 200 (250k), XOM ref 50
 * (150k, carry); trend gross/net 420k/400k; portfolio gross/net 600k/450k; max order 100k; collar 5 %.
 */
import { GateCore } from '../../../../grpc/gate';
import type { Explanation } from '../../../../risk/pretrade/reasons';
import { currency } from '../../../../risk/units';
import { budget, fillInto, gateCore, order, snapshotOf, T0 } from './fixtures';

const clock = { now: T0 };
let core: GateCore;

beforeEach(() => {
  clock.now = T0 + 60_000;
  core = gateCore(clock);
  core.install(snapshotOf());
});

const fill = (strategy: string, instrument: string, qty: number, price: number): void => fillInto(core, strategy, instrument, qty, price);

/** The single explanation of a denial, after checking it names the one reason denied. */
function explanationOf(o: Parameters<GateCore['evaluate']>[0]): Explanation {
  const r = core.evaluate(o, 'test', process.hrtime.bigint());
  expect(r.approved).toBe(false);
  expect(r.explanations.map((e) => e.reason)).toEqual(r.reasons);
  expect(r.explanations).toHaveLength(1);
  return r.explanations[0];
}

const pairScope = { scope: 'INSTRUMENT', strategy: 'trend', instrument: 'AAPL' } as const;
const portfolioScope = { scope: 'PORTFOLIO', strategy: '', instrument: '' } as const;

describe('every capacity reason carries limit, scope, current, post-trade and override', () => {
  test('MAX_ORDER_NOTIONAL: 1500 × 100 = 150k against 100k, portfolio scope, no current value', () => {
    expect(explanationOf(order({ quantity: 1500 }))).toEqual({
      reason: 'MAX_ORDER_NOTIONAL',
      ...portfolioScope,
      measure: 'ORDER_NOTIONAL',
      limit: 100_000,
      postTrade: 150_000,
      overridden: false,
    });
  });

  test('POSITION_LIMIT: trend/AAPL at 150k, +60k → 210k against 200k', () => {
    fill('trend', 'AAPL', 1500, 100);
    expect(explanationOf(order({ quantity: 600 }))).toEqual({
      reason: 'POSITION_LIMIT',
      ...pairScope,
      measure: 'POSITION_NOTIONAL',
      limit: 200_000,
      current: 150_000,
      postTrade: 210_000,
      overridden: false,
    });
  });

  test('POSITION_LIMIT under an override: the override is the limit, and says so', () => {
    core.install(
      snapshotOf(budget(), {
        version: 2,
        overrides: [
          { strategy: 'trend', asset: 'AAPL', field: 'maxPositionNotional', value: currency(160_000), expiresAtMs: T0 + 600_000 },
        ],
      }),
    );
    fill('trend', 'AAPL', 1500, 100);
    expect(explanationOf(order({ quantity: 200 }))).toMatchObject({
      reason: 'POSITION_LIMIT',
      limit: 160_000,
      current: 150_000,
      postTrade: 170_000,
      overridden: true,
    });
  });

  test('POSITION_LIMIT counts open reservations in the current value (worst case)', () => {
    expect(core.evaluate(order({ quantity: 900, clientOrderId: 'r1' }), 't', 0n).approved).toBe(true);
    fill('trend', 'AAPL', 800, 100);
    // 80k filled (from elsewhere) + 90k reserved = 170k; 400 more → 210k.
    expect(explanationOf(order({ quantity: 400 }))).toMatchObject({ reason: 'POSITION_LIMIT', current: 170_000, postTrade: 210_000 });
  });

  test('STRATEGY_BUDGET (net binds): trend net 410k, +20k → 430k against 400k', () => {
    fill('trend', 'AAPL', 1900, 100);
    fill('trend', 'MSFT', 1100, 200);
    expect(explanationOf(order({ instrument: 'MSFT', quantity: 100, price: 200 }))).toEqual({
      reason: 'STRATEGY_BUDGET',
      scope: 'STRATEGY',
      strategy: 'trend',
      instrument: '',
      measure: 'NET_NOTIONAL',
      limit: 400_000,
      current: 410_000,
      postTrade: 430_000,
      overridden: false,
    });
  });

  test('STRATEGY_BUDGET (gross binds): long 190k AAPL, short 220k MSFT, selling 20k more MSFT → 430k against 420k', () => {
    fill('trend', 'AAPL', 1900, 100);
    fill('trend', 'MSFT', -1100, 200);
    expect(explanationOf(order({ instrument: 'MSFT', side: 'SELL', quantity: 100, price: 200 }))).toEqual({
      reason: 'STRATEGY_BUDGET',
      scope: 'STRATEGY',
      strategy: 'trend',
      instrument: '',
      measure: 'GROSS_NOTIONAL',
      limit: 420_000,
      current: 410_000,
      postTrade: 430_000,
      overridden: false,
    });
  });

  test('GROSS_EXPOSURE under a portfolio override of 300k: 250k, +60k → 310k', () => {
    core.install(
      snapshotOf(budget(), {
        version: 2,
        overrides: [{ strategy: null, asset: null, field: 'maxGrossNotional', value: currency(300_000), expiresAtMs: T0 + 600_000 }],
      }),
    );
    fill('trend', 'AAPL', 1500, 100);
    fill('carry', 'XOM', -2000, 50);
    expect(explanationOf(order({ instrument: 'MSFT', quantity: 300, price: 200 }))).toEqual({
      reason: 'GROSS_EXPOSURE',
      ...portfolioScope,
      measure: 'GROSS_NOTIONAL',
      limit: 300_000,
      current: 250_000,
      postTrade: 310_000,
      overridden: true,
    });
  });

  test('NET_EXPOSURE: net 440k, +20k → 460k against 450k', () => {
    fill('trend', 'AAPL', 1900, 100);
    fill('trend', 'MSFT', 1000, 200);
    fill('carry', 'XOM', 1000, 50);
    expect(explanationOf(order({ strategy: 'carry', instrument: 'XOM', quantity: 400, price: 50 }))).toEqual({
      reason: 'NET_EXPOSURE',
      ...portfolioScope,
      measure: 'NET_NOTIONAL',
      limit: 450_000,
      current: 440_000,
      postTrade: 460_000,
      overridden: false,
    });
  });

  test('NET_EXPOSURE of a sell is signed: short 440k, −20k → −460k against |net| ≤ 450k', () => {
    fill('trend', 'AAPL', -1900, 100);
    fill('trend', 'MSFT', -1000, 200);
    fill('carry', 'XOM', -1000, 50);
    expect(explanationOf(order({ strategy: 'carry', instrument: 'XOM', side: 'SELL', quantity: 400, price: 50 }))).toMatchObject({
      reason: 'NET_EXPOSURE',
      limit: 450_000,
      current: -440_000,
      postTrade: -460_000,
    });
  });

  test('REDUCE_ONLY: long 100 AAPL, selling 101 would flip it: at most 100 units', () => {
    fill('trend', 'AAPL', 100, 100);
    core.install(snapshotOf(budget(), { version: 2, state: 'REDUCING' }));
    expect(explanationOf(order({ side: 'SELL', quantity: 101 }))).toEqual({
      reason: 'REDUCE_ONLY',
      ...pairScope,
      measure: 'ORDER_QUANTITY',
      limit: 100,
      postTrade: 101,
      overridden: false,
    });
  });
});

describe('hard reasons', () => {
  test('PRICE_COLLAR: 106 is 6 % from 100 against a 5 % collar', () => {
    const e = explanationOf(order({ price: 106 }));
    expect(e).toMatchObject({ reason: 'PRICE_COLLAR', ...pairScope, measure: 'PRICE_DEVIATION', limit: 0.05, overridden: false });
    expect(e.postTrade).toBeCloseTo(0.06, 12);
  });

  test('RESERVATION_CAP: the working-order count against the cap', () => {
    const capped = new GateCore({ ...core.options, policy: { ...core.options.policy, maxWorkingOrders: 1 } });
    capped.install(snapshotOf());
    expect(capped.evaluate(order(), 't', 0n).approved).toBe(true);
    const r = capped.evaluate(order(), 't', 0n);
    expect(r.explanations).toEqual([
      { reason: 'RESERVATION_CAP', ...portfolioScope, measure: 'WORKING_ORDERS', limit: 1, current: 1, postTrade: 2, overridden: false },
    ]);
  });

  test('a reason that is no limit carries its scope and no numbers', () => {
    expect(explanationOf(order({ strategy: 'nope' }))).toEqual({
      reason: 'UNKNOWN_STRATEGY',
      scope: 'STRATEGY',
      strategy: 'nope',
      instrument: '',
      overridden: false,
    });
  });

  test('several reasons: one explanation each, in the order of the reasons', () => {
    fill('trend', 'AAPL', 1500, 100);
    const r = core.evaluate(order({ quantity: 600, price: 104 }), 't', 0n);
    expect(r.reasons).toEqual(['POSITION_LIMIT']);
    const both = core.evaluate(order({ quantity: 600, price: 110 }), 't', 0n);
    expect(both.explanations.map((e) => e.reason)).toEqual(['PRICE_COLLAR', 'POSITION_LIMIT']);
  });

  test('an approval carries no explanation', () => {
    expect(core.evaluate(order(), 't', 0n)).toMatchObject({ approved: true, explanations: [] });
  });
});

describe('SizePosition explains the limit that trimmed it, at the requested quantity', () => {
  test('POSITION_LIMIT trims 600 to 500; the fields say 210k against 200k', () => {
    fill('trend', 'AAPL', 1500, 100);
    const s = core.size(order({ quantity: 600, clientOrderId: '' }), 't', 0n);
    expect(s.quantity).toBeCloseTo(500, 9);
    expect(s.explanation).toEqual({
      reason: 'POSITION_LIMIT',
      ...pairScope,
      measure: 'POSITION_NOTIONAL',
      limit: 200_000,
      current: 150_000,
      postTrade: 210_000,
      overridden: false,
    });
  });

  test('a full fit has no explanation; a hard reason sizes 0 and explains itself', () => {
    expect(core.size(order({ clientOrderId: '' }), 't', 0n).explanation).toBeUndefined();
    expect(core.size(order({ instrument: 'XOM', clientOrderId: '' }), 't', 0n)).toMatchObject({
      quantity: 0,
      explanation: { reason: 'UNKNOWN_INSTRUMENT', scope: 'INSTRUMENT', strategy: 'trend', instrument: 'XOM' },
    });
  });
});
