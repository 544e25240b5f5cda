/**
 * The dynamic book through the gate's checks (backtest/gateRouting.ts): on seeded synthetic prices,
 * what the notional and the risk checks change in the book's own rebalancing orders.
 */
import { runGatedComparison } from '../../../backtest/gatedComparison';
import { syntheticPrices } from '../../../bench/syntheticPrices';
import { parseRiskConfig } from '../../../risk/config';
import { fraction, periodsPerYear } from '../../../risk/units';

const table = syntheticPrices(8, 800, 3);

function compare(gate: { vol_limit_multiple: number; risk_budget_tolerance: number }) {
  const config = parseRiskConfig({
    risk_budgeting: {
      lookback_days: 120,
      strategies: [
        { name: 'defensive', budget: 0.5, assets: table.assets.slice(0, 4) },
        { name: 'cyclical', budget: 0.5, assets: table.assets.slice(4) },
      ],
      gate,
    },
  });
  return runGatedComparison(table, {
    config,
    costBps: 5,
    cashRate: fraction(0.02),
    periodsPerYear: periodsPerYear(252),
    calendarPeriod: 'monthly',
    firstDecisionDay: 121,
  });
}

test('default gate: the book sequenced through every check is the ungated book; the target sits at 1/1.25 of the vol limit', () => {
  const r = compare({ vol_limit_multiple: 1.25, risk_budget_tolerance: 0.1 });
  expect(r.gate['sequenced-notional'].limited).toEqual({});
  expect(r.gate['sequenced-risk'].limited).toEqual({});
  expect(r.metrics['sequenced-risk'].maxDrawdown).toBeCloseTo(r.metrics.ungated.maxDrawdown, 12);
  expect(r.metrics['sequenced-risk'].turnoverAnnual).toBeCloseTo(r.metrics.ungated.turnoverAnnual, 12);
  // The executed book is the budget's target, whose ex-ante vol is the forecast: limit / 1.25.
  expect(r.gate['sequenced-risk'].maxVolToLimit).toBeCloseTo(0.8, 9);
});

test('tight gate, whole plan sent at once: VOL_LIMIT and RISK_BUDGET cut buys stacked on unfilled sells; the book never ends above the limit', () => {
  const r = compare({ vol_limit_multiple: 1, risk_budget_tolerance: 0 });
  const risk = r.gate['batch-risk'];
  expect(risk.limited.VOL_LIMIT).toBeGreaterThan(0);
  expect(risk.limited.RISK_BUDGET).toBeGreaterThan(0);
  expect(risk.untradedNotional).toBeGreaterThan(r.gate['batch-notional'].untradedNotional);
  expect(risk.maxVolToLimit).toBeLessThanOrEqual(1 + 1e-9);
  expect(r.gate['batch-notional'].limited.VOL_LIMIT).toBeUndefined();
  // Less traded than the same flow with notional checks only.
  expect(r.metrics['batch-risk'].turnoverAnnual).toBeLessThan(r.metrics['batch-notional'].turnoverAnnual);
});
