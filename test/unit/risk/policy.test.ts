import type { RegimePolicy, StrategyConfig } from '../../../risk/config';
import { capWeights, cashWeight, correlationScaling, regimeLeverageCap, resolveStrategies, tiltedBudgets } from '../../../risk/policy';
import { annualizedVol, fraction, leverage } from '../../../risk/units';

const regime = (over: Partial<RegimePolicy> = {}): RegimePolicy => ({
  name: 'bear',
  equityAllocation: fraction(0.7),
  leverageLimit: leverage(1),
  volTarget: annualizedVol(0.08),
  maxPositionShare: fraction(0.25),
  strategyTilts: {},
  maxVol: annualizedVol(0.36),
  ...over,
});
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const strategies: StrategyConfig[] = [
  { name: 'carry', riskBudget: fraction(0.6), assets: ['A', 'B'] },
  { name: 'defensive', riskBudget: fraction(0.4), assets: ['C'] },
];

describe('strategies and tilts', () => {
  it('defaults to one "core" strategy holding every asset', () => {
    expect(resolveStrategies([], ['X', 'Y'])).toEqual([{ name: 'core', riskBudget: 1, assets: ['X', 'Y'] }]);
  });

  it('rejects a strategy asset without prices', () => {
    expect(() => resolveStrategies(strategies, ['A', 'B'])).toThrow(/defensive.*C/);
  });

  it('tilts multiply the budgets and renormalize: 0.6 × 0.5 : 0.4 × 1 = 3/7 : 4/7', () => {
    const tilted = tiltedBudgets(strategies, regime({ strategyTilts: { carry: 0.5 } }));
    expect(tilted[0].riskBudget).toBeCloseTo(3 / 7, 15);
    expect(tilted[1].riskBudget).toBeCloseTo(4 / 7, 15);
  });

  it('a zero tilt switches a strategy off; all zero is an error', () => {
    expect(tiltedBudgets(strategies, regime({ strategyTilts: { carry: 0 } })).map((s) => s.riskBudget)).toEqual([0, 1]);
    expect(() => tiltedBudgets(strategies, regime({ strategyTilts: { carry: 0, defensive: 0 } }))).toThrow(/zero/);
  });
});

describe('regime cap and cash leg', () => {
  it('gross is capped at equity_allocation × leverage_limit (the risky sleeve, levered)', () => {
    expect(regimeLeverageCap(regime({ equityAllocation: fraction(0.7), leverageLimit: leverage(1) }))).toBeCloseTo(0.7, 15);
    expect(regimeLeverageCap(regime({ equityAllocation: fraction(1), leverageLimit: leverage(1.5) }))).toBeCloseTo(1.5, 15);
    expect(regimeLeverageCap(regime({ equityAllocation: fraction(0.4), leverageLimit: leverage(0.6) }))).toBeCloseTo(0.24, 15);
  });

  it('cash = 1 − gross below 1, none at or above 1', () => {
    expect(cashWeight(leverage(0.6))).toBeCloseTo(0.4, 15);
    expect(cashWeight(leverage(1))).toBe(0);
    expect(cashWeight(leverage(1.3))).toBe(0);
  });
});

describe('correlation scaling', () => {
  const settings = { threshold: 0.75, scale: fraction(0.8) };
  it('does not apply at the threshold', () => {
    expect(correlationScaling(0.75, settings)).toEqual({ averageCorrelation: 0.75, applied: false, scale: 1 });
  });
  it('applies just above it', () => {
    expect(correlationScaling(0.7500001, settings)).toEqual({ averageCorrelation: 0.7500001, applied: true, scale: 0.8 });
  });
  it('does not apply to NaN (a single asset has no correlation)', () => {
    expect(correlationScaling(Number.NaN, settings).applied).toBe(false);
  });
});

describe('capWeights', () => {
  it('caps and redistributes the excess pro rata: [0.5, 0.3, 0.2] at 0.4 → [0.4, 0.36, 0.24]', () => {
    const { weights, capped } = capWeights([0.5, 0.3, 0.2], 0.4);
    expect(weights[0]).toBeCloseTo(0.4, 15);
    expect(weights[1]).toBeCloseTo(0.36, 15);
    expect(weights[2]).toBeCloseTo(0.24, 15);
    expect(capped).toBe(1);
    expect(sum(weights)).toBeCloseTo(1, 15);
  });

  it('repeats when the redistribution pushes another weight over: [0.6, 0.35, 0.05] at 0.4', () => {
    // Round 1: 0.6 → 0.4, +0.2 split 0.35 : 0.05 → 0.525, 0.075. Round 2: 0.525 → 0.4, +0.125 → 0.2.
    const { weights } = capWeights([0.6, 0.35, 0.05], 0.4);
    expect(weights[0]).toBeCloseTo(0.4, 15);
    expect(weights[1]).toBeCloseTo(0.4, 15);
    expect(weights[2]).toBeCloseTo(0.2, 15);
  });

  it('falls back to equal weights when the cap is below 1/n (no weight can get under it)', () => {
    // 0.7 and then 0.2 + its share of the excess are cut; 0.1 fills up to 1/3 exactly.
    expect(capWeights([0.7, 0.2, 0.1], 0.3)).toEqual({ weights: [1 / 3, 1 / 3, 1 / 3], capped: 2, feasible: false });
    expect(capWeights([1], 0.25)).toEqual({ weights: [1], capped: 0, feasible: false });
    // Zero weights (a strategy tilted off) do not count as positions.
    const [a, b, c] = capWeights([0.9, 0.1, 0], 0.3).weights;
    expect([a, b]).toEqual([0.5, expect.closeTo(0.5, 15)]);
    expect(c).toBe(0);
  });

  it('leaves weights under the cap untouched', () => {
    expect(capWeights([0.25, 0.25, 0.5], 0.5).weights).toEqual([0.25, 0.25, 0.5]);
  });
});
