// Each trigger at its threshold (does not fire) and just beyond it (fires), with the measured value reported.
// Thresholds use binary-exact numbers (0.0625, 0.1875...) so "at the threshold" is exact in floating point.
import type { RebalancingTriggers } from '../../../risk/config';
import { covarianceFromRows } from '../../../risk/covariance';
import {
  budgetBreachTrigger,
  correlationSpikeTrigger,
  driftTrigger,
  evaluateTriggers,
  regimeChangeTrigger,
  targetWeightsOfCapital,
  volBreachTrigger,
  weightsOfCapital,
} from '../../../risk/triggers';
import { annualizedVol, currency, fraction, milliseconds } from '../../../risk/units';
import { handBudget } from './fixtures';

const DAY = milliseconds(86_400_000);

describe('drift', () => {
  const target = new Map([
    ['A', 0.25],
    ['B', 0.25],
  ]);
  it('does not fire at the threshold: |0.3125 − 0.25| = 0.0625', () => {
    const t = driftTrigger(
      new Map([
        ['A', 0.3125],
        ['B', 0.25],
      ]),
      target,
      fraction(0.0625),
    );
    expect(t).toMatchObject({ kind: 'drift', fired: false, value: 0.0625, threshold: 0.0625 });
    expect(t.detail).toMatch(/^A: actual 31\.25% vs target 25\.00%/);
  });

  it('fires just above it and reports the worst asset', () => {
    const t = driftTrigger(
      new Map([
        ['A', 0.3125],
        ['B', 0.1874],
      ]),
      target,
      fraction(0.0625),
    );
    expect(t.fired).toBe(true);
    expect(t.value).toBeCloseTo(0.0626, 12);
    expect(t.detail).toMatch(/^B:/);
  });

  it('counts an untargeted holding and a missing target in full', () => {
    expect(driftTrigger(new Map([['C', 0.1]]), new Map(), fraction(0.05))).toMatchObject({ fired: true, value: 0.1 });
    expect(driftTrigger(new Map(), new Map([['A', 0.25]]), fraction(0.05))).toMatchObject({ fired: true, value: 0.25 });
  });

  it('compares weights of capital on both sides (not book weights that exclude cash)', () => {
    const budget = handBudget(); // book weights A 0.6, B 0.4; of capital A 0.3, B 0.2
    expect([...targetWeightsOfCapital(budget)]).toEqual([
      ['A', 0.3],
      ['B', 0.2],
    ]);
    const actual = weightsOfCapital({ A: currency(300_000), B: currency(200_000) }, budget.limits.capital);
    expect(driftTrigger(actual, targetWeightsOfCapital(budget), fraction(0.01)).value).toBe(0);
  });
});

describe('regime change with cooldown', () => {
  const base = { enabled: true, committedRegime: 'bull', detectedRegime: 'bear', lastRegimeRebalanceAtMs: 0, cooldown: DAY };
  it('fires once the cooldown has fully elapsed', () => {
    expect(regimeChangeTrigger({ ...base, nowMs: DAY })).toMatchObject({ kind: 'regime-change', fired: true, value: DAY, threshold: DAY });
  });
  it('does not fire 1 ms before the end of the cooldown', () => {
    const t = regimeChangeTrigger({ ...base, nowMs: DAY - 1 });
    expect(t).toMatchObject({ fired: false, value: DAY - 1 });
    expect(t.detail).toMatch(/bull → bear, in cooldown/);
  });
  it('fires when no regime rebalance happened before', () => {
    expect(regimeChangeTrigger({ ...base, lastRegimeRebalanceAtMs: null, nowMs: 5 })).toMatchObject({
      fired: true,
      value: Number.POSITIVE_INFINITY,
    });
  });
  it('does not fire when unchanged, disabled, or with nothing committed', () => {
    expect(regimeChangeTrigger({ ...base, detectedRegime: 'bull', nowMs: 10 * DAY }).fired).toBe(false);
    expect(regimeChangeTrigger({ ...base, enabled: false, nowMs: 10 * DAY }).fired).toBe(false);
    expect(regimeChangeTrigger({ ...base, committedRegime: null, nowMs: 10 * DAY }).fired).toBe(false);
  });
});

describe('correlation spike', () => {
  it('does not fire at the spike level and fires above it', () => {
    expect(correlationSpikeTrigger(0.75, 0.75)).toMatchObject({ kind: 'correlation-spike', fired: false, value: 0.75, threshold: 0.75 });
    expect(correlationSpikeTrigger(0.7501, 0.75)).toMatchObject({ fired: true, value: 0.7501 });
  });
});

describe('vol breach', () => {
  it('threshold = vol_breach × target = 1.5 × 12.5 % = 18.75 %; at it: no; above: yes', () => {
    expect(volBreachTrigger(annualizedVol(0.1875), annualizedVol(0.125), 1.5)).toMatchObject({
      kind: 'vol-breach',
      fired: false,
      value: 0.1875,
      threshold: 0.1875,
    });
    expect(volBreachTrigger(annualizedVol(0.19), annualizedVol(0.125), 1.5)).toMatchObject({ fired: true, value: 0.19, threshold: 0.1875 });
  });
});

describe('budget breach', () => {
  const budget = handBudget(); // max gross 550 000, max A 330 000, max B 220 000
  it('at every limit exactly: utilization 1, not fired', () => {
    const t = budgetBreachTrigger(budget, { A: currency(330_000), B: currency(220_000) }, 1);
    expect(t).toMatchObject({ kind: 'budget-breach', fired: false, value: 1, threshold: 1 });
  });
  it('one position over its limit fires and names it', () => {
    const t = budgetBreachTrigger(budget, { A: currency(330_033), B: currency(100_000) }, 1);
    expect(t.fired).toBe(true);
    expect(t.value).toBeCloseTo(1.0001, 12);
    expect(t.detail).toMatch(/^position A at 100\.01%/);
  });
  it('gross exposure over the limit fires', () => {
    const t = budgetBreachTrigger(
      handBudget({ assets: budget.assets.map((a) => ({ ...a, maxPositionNotional: currency(1e9) })) }),
      { A: currency(330_000), B: currency(231_000) },
      1,
    );
    expect(t).toMatchObject({ fired: true, detail: expect.stringMatching(/^gross exposure at 102\.00%/) });
    expect(t.value).toBeCloseTo(561 / 550, 12);
  });
  it('holding an asset the budget does not allow is an infinite breach', () => {
    expect(budgetBreachTrigger(budget, { Z: currency(1) }, 1).value).toBe(Number.POSITIVE_INFINITY);
  });
  it('with a covariance, forecast vol of the positions is compared with the vol target', () => {
    // A, B uncorrelated, 20 % vol each; weights of capital 0.3, 0.2 → σ = 0.2·√(0.13) = 7.211 % vs 6.25 %.
    const cov = covarianceFromRows(
      'annualized',
      ['A', 'B'],
      [
        [0.04, 0],
        [0, 0.04],
      ],
    );
    const t = budgetBreachTrigger(budget, { A: currency(300_000), B: currency(200_000) }, 1, cov);
    expect(t.fired).toBe(true);
    expect(t.value).toBeCloseTo((0.2 * Math.sqrt(0.13)) / 0.0625, 12);
    expect(t.detail).toMatch(/^forecast vol/);
  });
  it('tolerance above 1 lets a small excess through', () => {
    expect(budgetBreachTrigger(budget, { A: currency(330_033) }, 1.01).fired).toBe(false);
  });
});

describe('evaluateTriggers', () => {
  const settings: RebalancingTriggers = {
    driftThreshold: fraction(0.05),
    regimeChange: true,
    regimeChangeCooldown: DAY,
    correlationSpike: 0.75,
    volBreach: 1.5,
    budgetBreach: 1,
  };
  it('reports all five in a fixed order from the committed budget', () => {
    const results = evaluateTriggers({
      settings,
      budget: handBudget(),
      positions: { A: currency(400_000), B: currency(200_000) },
      regime: { detectedRegime: 'crisis', lastRegimeRebalanceAtMs: null, nowMs: 0 },
      averageCorrelation: 0.5,
      realizedVol: annualizedVol(0.05),
    });
    expect(results.map((r) => [r.kind, r.fired])).toEqual([
      ['drift', true], // A 0.4 vs 0.3
      ['regime-change', true], // bear → crisis
      ['correlation-spike', false],
      ['vol-breach', false], // 5 % vs 1.5 × 6.25 %
      ['budget-breach', true], // gross 600 000 > 550 000; A 400 000 > 330 000
    ]);
    expect(results[0].value).toBeCloseTo(0.1, 12);
    expect(results[3].threshold).toBeCloseTo(0.09375, 15);
    expect(results[4].value).toBeCloseTo(400 / 330, 12);
  });
});
