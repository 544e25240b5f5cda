import { equalRiskContribution, riskBudgetingWeights } from '../../../../risk/allocation/riskBudgeting';
import { covarianceFromRows } from '../../../../risk/covariance';
import { portfolioVol, riskContributions } from '../../../../risk/measures';
import { constantCorrelation, covFromVolCorr } from '../helpers';

describe('equal risk contribution, Maillard–Roncalli–Teiletche (2010) examples', () => {
  // Example 1 of MRT (2010) / Roncalli's "Risk-Based Indexation" slides: vols 10..40 %, ρ12 = 80 %, ρ34 = −50 %.
  // Published ERC weights (percent, 1 dp): 38.4, 19.2, 24.3, 18.2; σ(w) = 10.3 %.
  it('reproduces example 1 (4 assets)', () => {
    const corr = [
      [1, 0.8, 0, 0],
      [0.8, 1, 0, 0],
      [0, 0, 1, -0.5],
      [0, 0, -0.5, 1],
    ];
    const cov = covFromVolCorr([0.1, 0.2, 0.3, 0.4], corr);
    const r = equalRiskContribution(cov);
    expect(r.converged).toBe(true);
    expect(r.budgetError).toBeLessThan(1e-10);
    [38.4, 19.2, 24.3, 18.2].forEach((p, i) => expect(r.weights[i] * 100).toBeCloseTo(p, 1));
    expect(portfolioVol(cov, r.weights) * 100).toBeCloseTo(10.3, 1);
  });

  // Example 2: vols 25, 22, 14, 30, 40, 30 %; all correlations 60 % except ρ56 = 20 %.
  // Published ERC weights: 15.7, 17.8, 28.0, 13.1, 10.9, 14.5; σ(w) = 19.5 %.
  it('reproduces example 2 (6 assets)', () => {
    const corr = constantCorrelation(6, 0.6);
    corr[4][5] = corr[5][4] = 0.2;
    const cov = covFromVolCorr([0.25, 0.22, 0.14, 0.3, 0.4, 0.3], corr);
    const r = equalRiskContribution(cov);
    expect(r.budgetError).toBeLessThan(1e-10);
    [15.7, 17.8, 28.0, 13.1, 10.9, 14.5].forEach((p, i) => expect(r.weights[i] * 100).toBeCloseTo(p, 1));
    expect(portfolioVol(cov, r.weights) * 100).toBeCloseTo(19.5, 1);
  });

  // With a constant correlation, ERC = inverse volatility: 1/σ normalized = 48 %, 24 %, 16 %, 12 % (exactly 12/25, 6/25, 4/25, 3/25).
  it.each([0, 0.3, 0.9])('is inverse volatility under constant correlation ρ = %p', (rho) => {
    const cov = covFromVolCorr([0.1, 0.2, 0.3, 0.4], constantCorrelation(4, rho));
    const r = equalRiskContribution(cov);
    [12 / 25, 6 / 25, 4 / 25, 3 / 25].forEach((w, i) => expect(r.weights[i]).toBeCloseTo(w, 12));
  });
});

describe('risk budgeting', () => {
  it('solves a two-asset uncorrelated budget by hand: w_i ∝ √b_i / σ_i', () => {
    // Diagonal Σ: RC_i ∝ w_i² σ_i², so w_i ∝ √b_i/σ_i. b = (0.8, 0.2), σ = (0.1, 0.2) → w ∝ (8.944, 2.236) → (0.8, 0.2).
    const cov = covarianceFromRows(
      'annualized',
      ['a', 'b'],
      [
        [0.01, 0],
        [0, 0.04],
      ],
    );
    const r = riskBudgetingWeights(cov, [0.8, 0.2]);
    expect(r.weights[0]).toBeCloseTo(0.8, 12);
    expect(r.weights[1]).toBeCloseTo(0.2, 12);
    expect(r.solver).toBe('newton');
  });

  it("matches pyrb's 5-asset budget test case to 1e-10 in risk contributions", () => {
    const corr = [
      [1, 0.1, 0.4, 0.5, 0.5],
      [0.1, 1, 0.7, 0.4, 0.4],
      [0.4, 0.7, 1, 0.8, 0.05],
      [0.5, 0.4, 0.8, 1, 0.1],
      [0.5, 0.4, 0.05, 0.1, 1],
    ];
    const cov = covFromVolCorr([0.15, 0.2, 0.25, 0.3, 0.1], corr);
    const budgets = [0.2, 0.2, 0.3, 0.1, 0.2];
    const r = riskBudgetingWeights(cov, budgets);
    const rc = riskContributions(cov, r.weights);
    rc.relative.forEach((x, i) => expect(Math.abs(x - budgets[i])).toBeLessThan(1e-10));
    expect(r.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 14);
    expect(r.iterations).toBeGreaterThan(0);
  });

  it('gives zero weight to a zero budget and solves the rest', () => {
    const cov = covFromVolCorr([0.1, 0.2, 0.3], constantCorrelation(3, 0.2));
    const r = riskBudgetingWeights(cov, [0.5, 0, 0.5]);
    expect(r.weights[1]).toBe(0);
    expect(r.riskContributions[0]).toBeCloseTo(0.5, 10);
  });

  it('falls back to coordinate descent when Newton is capped, reaching the same answer', () => {
    const corr = constantCorrelation(4, 0.5);
    corr[0][3] = corr[3][0] = -0.2;
    const cov = covFromVolCorr([0.1, 0.2, 0.3, 0.4], corr);
    const newton = equalRiskContribution(cov);
    const ccd = equalRiskContribution(cov, { maxNewtonIterations: 0 });
    expect(ccd.solver).toBe('ccd');
    expect(ccd.budgetError).toBeLessThan(1e-10);
    ccd.weights.forEach((w, i) => expect(w).toBeCloseTo(newton.weights[i], 9));
  });

  it('rejects budgets that do not sum to 1, are negative or have the wrong length', () => {
    const cov = covFromVolCorr([0.1, 0.2], constantCorrelation(2, 0));
    expect(() => riskBudgetingWeights(cov, [0.5, 0.4])).toThrow(/sums to 0.9/);
    expect(() => riskBudgetingWeights(cov, [1.5, -0.5])).toThrow(/negative/);
    expect(() => riskBudgetingWeights(cov, [1])).toThrow(/1 entries for 2 assets/);
  });

  it('clips to weight bounds, redistributes, and reports the budget error instead of claiming convergence', () => {
    const cov = covFromVolCorr([0.1, 0.2, 0.3, 0.4], constantCorrelation(4, 0.3));
    const r = equalRiskContribution(cov, { maxWeight: 0.4 });
    expect(r.boundsActive).toBe(true);
    expect(r.weights[0]).toBeCloseTo(0.4, 14);
    expect(r.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 14);
    // Remaining 60 % is spread in the unbounded proportions 6:4:3.
    expect(r.weights[1]).toBeCloseTo((0.6 * 6) / 13, 12);
    expect(r.converged).toBe(false);
    expect(r.budgetError).toBeGreaterThan(0.01);
  });
});
