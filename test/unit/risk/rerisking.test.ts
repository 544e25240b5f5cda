/**
 * The re-risking policy (risk/rerisking.ts): stepping a proposal, spacing asks, and the measurement of
 * approval fatigue over a crisis → calm recovery — how many times a desk is asked, and for how big a
 * step, without the policy and with it. The recovery is the demo's: the engine's gross limit climbs
 * back from $4.76M to $14.86M (leverage smoothing: 15 % of the remaining gap per bar), one bar per
 * minute, the limit-change trigger fires when the engine's gross moved > 5 % from the committed one,
 * and the desk approves every ask at once (the most asks a desk can be given).
 */
import type { RiskBudget } from '../../../risk/budget';
import {
  DEFAULT_RERISKING_POLICY,
  NO_RERISKING_POLICY,
  type ReriskingPolicy,
  decideAsk,
  sameLimits,
  spacingAllows,
  stepTowards,
} from '../../../risk/rerisking';
import { handBudget } from './fixtures';

const withGross = (b: RiskBudget, gross: number): RiskBudget => ({ ...b, limits: { ...b.limits, maxGrossNotional: gross as never } });

describe('stepTowards', () => {
  const current = handBudget();
  const target = stepTowards(null, current, 1).budget; // no committed budget: nothing to step from
  it('leaves a proposal within one step, or with no budget to step from, as it is', () => {
    expect(target).toBe(current);
    const within = withGross(current, current.limits.maxGrossNotional * 1.4);
    expect(stepTowards(current, within, 0.5)).toEqual({ budget: within, scale: 1 });
    expect(stepTowards(current, withGross(current, 1e12), null).scale).toBe(1);
  });

  it('scales a larger proposal down to one step: the same allocation at a lower leverage', () => {
    const big = {
      ...current,
      limits: {
        ...current.limits,
        maxGrossNotional: (current.limits.maxGrossNotional * 3) as never,
        grossLeverage: (current.limits.grossLeverage * 3) as never,
      },
    };
    const { budget, scale } = stepTowards(current, big, 0.5);
    expect(scale).toBeCloseTo(0.5, 12);
    expect(budget.limits.maxGrossNotional).toBeCloseTo(current.limits.maxGrossNotional * 1.5, 6);
    expect(budget.limits.grossLeverage).toBeCloseTo(big.limits.grossLeverage * 0.5, 12);
    expect(budget.limits.maxNetNotional).toBeCloseTo(big.limits.maxNetNotional * 0.5, 6);
    expect(budget.forecastVol).toBeCloseTo(big.forecastVol * 0.5, 12);
    budget.assets.forEach((a, i) => {
      expect(a.targetWeight).toBe(big.assets[i].targetWeight);
      expect(a.maxPositionNotional).toBeCloseTo(big.assets[i].maxPositionNotional * 0.5, 6);
    });
    budget.strategies.forEach((s, i) => expect(s.maxGrossNotional).toBeCloseTo(big.strategies[i].maxGrossNotional * 0.5, 6));
    expect(budget.diagnostics).toMatchObject({ reriskStepScale: scale, engineGrossTarget: big.limits.maxGrossNotional });
  });
});

describe('asking', () => {
  const b = handBudget();
  it('spaces asks', () => {
    const policy = { maxGrossStepUp: null, minSpacingMs: 60_000 };
    expect(spacingAllows(policy, null, 0)).toBe(true);
    expect(spacingAllows(policy, 1_000, 60_999)).toBe(false);
    expect(spacingAllows(policy, 1_000, 61_000)).toBe(true);
  });

  it('does not ask the same question again, nor before the spacing; otherwise asks (superseding the pending ask)', () => {
    const policy = { maxGrossStepUp: null, minSpacingMs: 60_000 };
    const proposed = withGross(b, b.limits.maxGrossNotional * 1.2);
    expect(sameLimits(proposed, withGross(b, b.limits.maxGrossNotional * 1.2))).toBe(true);
    const base = { policy, committed: b, proposed, nowMs: 100_000 };
    expect(decideAsk({ ...base, pending: proposed, lastAskAtMs: 0 })).toEqual({ ask: false, why: 'the pending ask already asks this' });
    expect(decideAsk({ ...base, pending: b, lastAskAtMs: 50_000 })).toMatchObject({ ask: false });
    expect(decideAsk({ ...base, pending: b, lastAskAtMs: 40_000 })).toMatchObject({ ask: true, step: { scale: 1 } });
  });
});

/** One crisis → calm recovery, bar by bar, as the loop applies the policy; every ask approved at once. */
function simulateRecovery(policy: ReriskingPolicy, bars = 90, barMs = 60_000) {
  const start = handBudget();
  let committed = withGross(start, 4.76e6);
  let lastAskAtMs: number | null = null;
  const asks: { atMs: number; from: number; to: number }[] = [];
  for (let bar = 1; bar <= bars; bar++) {
    const nowMs = bar * barMs;
    const engineGross = 14.86e6 - (14.86e6 - 4.76e6) * 0.85 ** bar;
    const proposed = withGross(start, engineGross);
    if (Math.abs(engineGross / committed.limits.maxGrossNotional - 1) <= 0.05) continue; // no trigger fires
    const decision = decideAsk({ policy, committed, proposed, pending: null, lastAskAtMs, nowMs });
    if (!decision.ask) continue;
    asks.push({ atMs: nowMs, from: committed.limits.maxGrossNotional, to: decision.step.budget.limits.maxGrossNotional });
    lastAskAtMs = nowMs;
    committed = decision.step.budget; // approved at once
  }
  const largestStep = Math.max(...asks.map((a) => a.to / a.from));
  const firstHour = asks.filter((a) => a.atMs <= 60 * 60_000).length;
  const minGapMin = Math.min(...asks.slice(1).map((a, i) => (a.atMs - asks[i].atMs) / 60_000));
  const reachedMin = (asks.find((a) => a.to >= 14.86e6 * 0.9)?.atMs ?? Number.NaN) / 60_000;
  return { asks: asks.length, firstHour, largestStep, minGapMin, reachedMin, finalGross: committed.limits.maxGrossNotional };
}

it('measures approval fatigue after a crisis: fewer, spaced, bounded asks with the policy', () => {
  const before = simulateRecovery(NO_RERISKING_POLICY);
  const after = simulateRecovery(DEFAULT_RERISKING_POLICY);
  const line = (name: string, r: ReturnType<typeof simulateRecovery>) =>
    `${name}: ${r.asks} asks (${r.firstHour} in the first hour), closest two ${r.minGapMin} min apart, largest step ×${r.largestStep.toFixed(2)}, ` +
    `90 % of calm gross reached after ${r.reachedMin} min, final $${(r.finalGross / 1e6).toFixed(2)}M`;
  process.stdout.write(
    `crisis → calm recovery, 1-min bars, every ask approved at once\n  ${line('no policy', before)}\n  ${line('policy +50 %/15 min', after)}\n`,
  );
  expect(after.asks).toBeLessThan(before.asks);
  expect(after.minGapMin).toBeGreaterThanOrEqual(15);
  expect(after.largestStep).toBeLessThanOrEqual(1.5 + 1e-9);
  // One ask can carry the whole climb without the policy when the desk was slow: stepping bounds it.
  const slowDesk = stepTowards(withGross(handBudget(), 4.76e6), withGross(handBudget(), 14.86e6), DEFAULT_RERISKING_POLICY.maxGrossStepUp);
  expect(slowDesk.budget.limits.maxGrossNotional).toBeCloseTo(7.14e6, 0);
});
