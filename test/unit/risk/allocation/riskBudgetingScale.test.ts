/**
 * The risk-budgeting solve at scale: Newton steps by conjugate gradients (dense Σ) and by Woodbury (factor
 * Σ = BFBᵀ + D) against the Cholesky-Newton solver that preceded them, which stays selectable as
 * `{ denseNewtonSystem: 'cholesky', warmStartSweeps: 50 }` (its configuration: coordinate descent to 1e-8,
 * then Cholesky steps). Accuracy is always checked by recomputing the risk contributions independently.
 */
import { readFileSync } from 'node:fs';
import { sharedDataFile } from '../../../../lib/paths';
import { type RiskBudgetingOptions, equalRiskContribution, riskBudgetingWeights } from '../../../../risk/allocation/riskBudgeting';
import { type CovarianceMatrix, covarianceFromRows } from '../../../../risk/covariance';
import { type FactorCovariance, denseCovarianceOf, factorCovarianceTimes } from '../../../../risk/factorModel';
import { riskContributions } from '../../../../risk/measures';
import { seededRng } from '../../../../risk/random';
import type { Weights } from '../../../../risk/units';
import { randomFactorModel } from '../helpers';

const PREVIOUS_SOLVER: RiskBudgetingOptions = { denseNewtonSystem: 'cholesky', warmStartSweeps: 50 };

/** Σ = AᵀA/m + ε·I with A m×n standard normal: no factor structure, condition number up to ~1/ε for m < n. */
function wishart(n: number, m: number, epsilon: number, seed: number): CovarianceMatrix<'annualized'> {
  const rng = seededRng(seed);
  const a = Array.from({ length: m }, () => Float64Array.from({ length: n }, rng.normal));
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += a[r][i] * a[r][j];
      values[i * n + j] = values[j * n + i] = s / m + (i === j ? epsilon : 0);
    }
  }
  return { unit: 'annualized', assets: Array.from({ length: n }, (_, i) => `W${i}`), values };
}

function randomBudgets(n: number, seed: number): number[] {
  const rng = seededRng(seed);
  const raw = Array.from({ length: n }, () => 0.05 + rng.uniform());
  const total = raw.reduce((s, v) => s + v, 0);
  return raw.map((v) => v / total);
}

/** max_i |RC_i/σ − b_i| recomputed from Σ·w, apart from the solver. */
function budgetError(model: CovarianceMatrix | FactorCovariance, weights: Weights, budgets: readonly number[]): number {
  const relative =
    'loadings' in model
      ? (() => {
          const sw = factorCovarianceTimes(model, weights);
          const variance = weights.reduce((s, w, i) => s + w * sw[i], 0);
          return weights.map((w, i) => (w * sw[i]) / variance);
        })()
      : riskContributions(model, weights).relative;
  return Math.max(...relative.map((rc, i) => Math.abs(rc - budgets[i])));
}

function maxDifference(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

describe('dense (conjugate gradients), factor (Woodbury) and the previous Cholesky solver agree', () => {
  it.each([
    [20, 2, 1],
    [150, 5, 2],
    [400, 8, 3],
  ])('on a factor model of %p assets and %p factors (seed %p), to 1e-10 in weights and contributions', (n, k, seed) => {
    const model = randomFactorModel(n, k, seed);
    const dense = denseCovarianceOf(model);
    const budgets = randomBudgets(n, seed + 100);
    const factor = riskBudgetingWeights(model, budgets);
    const cg = riskBudgetingWeights(dense, budgets);
    const previous = riskBudgetingWeights(dense, budgets, PREVIOUS_SOLVER);
    expect([factor.newtonSystem, cg.newtonSystem, previous.newtonSystem]).toEqual(['woodbury', 'conjugate-gradient', 'cholesky']);
    for (const r of [factor, cg, previous]) {
      expect(r.converged).toBe(true);
      expect(budgetError(model, r.weights, budgets)).toBeLessThan(1e-10);
      expect(budgetError(dense, r.weights, budgets)).toBeLessThan(1e-10);
    }
    expect(maxDifference(factor.weights, cg.weights)).toBeLessThan(1e-10);
    expect(maxDifference(cg.weights, previous.weights)).toBeLessThan(1e-10);
  });

  it.each([
    [60, 200, 1e-2, 4],
    [200, 400, 1e-3, 5],
  ])('on a random positive definite Σ of %p assets (AᵀA/%p + %p·I, seed %p)', (n, m, epsilon, seed) => {
    const cov = wishart(n, m, epsilon, seed);
    const budgets = randomBudgets(n, seed);
    const cg = riskBudgetingWeights(cov, budgets);
    const previous = riskBudgetingWeights(cov, budgets, PREVIOUS_SOLVER);
    expect(cg.newtonSystem).toBe('conjugate-gradient');
    expect(budgetError(cov, cg.weights, budgets)).toBeLessThan(1e-10);
    expect(budgetError(cov, previous.weights, budgets)).toBeLessThan(1e-10);
    expect(maxDifference(cg.weights, previous.weights)).toBeLessThan(1e-10);
  });
});

describe('risk budgeting at 500 and 5 000 assets', () => {
  it('500 assets, dense: ERC and uneven budgets to 1e-10 by conjugate gradients, cheaper than one factorisation', () => {
    const cov = denseCovarianceOf(randomFactorModel(500, 10, 7));
    for (const budgets of [Array.from({ length: 500 }, () => 1 / 500), randomBudgets(500, 8)]) {
      const r = riskBudgetingWeights(cov, budgets);
      expect(r.newtonSystem).toBe('conjugate-gradient');
      expect(budgetError(cov, r.weights, budgets)).toBeLessThan(1e-10);
      // All the CG products of the solve (O(n²) each) cost less than one Cholesky factorisation (≈ n/3 products).
      expect(r.conjugateGradientIterations).toBeLessThan(500 / 3);
    }
  });

  it('5 000 assets, factor form: ERC and uneven budgets to 1e-10, checked by an independent product', () => {
    const model = randomFactorModel(5000, 10, 9);
    for (const budgets of [Array.from({ length: 5000 }, () => 1 / 5000), randomBudgets(5000, 10)]) {
      const r = riskBudgetingWeights(model, budgets);
      expect(r.newtonSystem).toBe('woodbury');
      expect(r.solver).toBe('newton');
      expect(r.budgetError).toBeLessThan(1e-10);
      expect(budgetError(model, r.weights, budgets)).toBeLessThan(1e-10);
      expect(r.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    }
  });
});

describe('ill-conditioned and hard inputs', () => {
  const [header, ...lines] = readFileSync(sharedDataFile('pypfopt', 'tests', 'cov_matrix.csv'), 'utf8')
    .trim()
    .split(/\r?\n/);
  const pypfopt = covarianceFromRows(
    'annualized',
    header.split(',').slice(1),
    lines.map((l) => l.split(',').slice(1).map(Number)),
  );

  it('PyPortfolioOpt cov_matrix.csv (95 assets, condition number 1.9e6): CG alone reaches 1e-10 and matches Cholesky', () => {
    const raw = pypfopt.assets.map((_, i) => (i % 7) + 1);
    const total = raw.reduce((s, x) => s + x, 0);
    for (const budgets of [pypfopt.assets.map(() => 1 / 95), raw.map((x) => x / total)]) {
      const cg = riskBudgetingWeights(pypfopt, budgets);
      const previous = riskBudgetingWeights(pypfopt, budgets, PREVIOUS_SOLVER);
      expect(cg.newtonSystem).toBe('conjugate-gradient');
      expect(budgetError(pypfopt, cg.weights, budgets)).toBeLessThan(1e-10);
      expect(maxDifference(cg.weights, previous.weights)).toBeLessThan(1e-10);
    }
  });

  it('hands a system that CG would need more than n/3 products for over to Cholesky, and still converges', () => {
    // Rank 60 plus a 1e-4 ridge, no factor structure: the Jacobi-preconditioned Hessian is badly conditioned.
    const cov = wishart(240, 60, 1e-4, 6);
    const budgets = randomBudgets(240, 6);
    const r = riskBudgetingWeights(cov, budgets);
    expect(r.newtonSystem).toBe('cholesky');
    expect(r.conjugateGradientIterations).toBeGreaterThan(0);
    expect(budgetError(cov, r.weights, budgets)).toBeLessThan(1e-10);
    expect(maxDifference(r.weights, riskBudgetingWeights(cov, budgets, PREVIOUS_SOLVER).weights)).toBeLessThan(1e-10);
  });

  it('cold starts (no coordinate-descent sweeps) take safeguarded Newton steps to the same answer', () => {
    const cov = wishart(60, 200, 1e-2, 4);
    const budgets = randomBudgets(60, 4);
    const cold = riskBudgetingWeights(cov, budgets, { warmStartSweeps: 0 });
    expect(cold.warmStartSweeps).toBe(0);
    expect(cold.solver).toBe('newton');
    expect(maxDifference(cold.weights, riskBudgetingWeights(cov, budgets).weights)).toBeLessThan(1e-10);
  });
});

describe('factor form keeps the dense features', () => {
  const model = randomFactorModel(6, 2, 21);
  const dense = denseCovarianceOf(model);

  it('gives a zero budget zero weight and solves the rest', () => {
    const budgets = [0.3, 0, 0.2, 0.1, 0.25, 0.15];
    const factor = riskBudgetingWeights(model, budgets);
    expect(factor.weights[1]).toBe(0);
    expect(factor.budgetError).toBeLessThan(1e-10);
    expect(maxDifference(factor.weights, riskBudgetingWeights(dense, budgets).weights)).toBeLessThan(1e-12);
  });

  it('clips to weight bounds exactly as the dense path does', () => {
    const factor = equalRiskContribution(model, { maxWeight: 0.2 });
    const denseBounded = equalRiskContribution(dense, { maxWeight: 0.2 });
    expect(factor.boundsActive).toBe(true);
    expect(factor.converged).toBe(false);
    expect(Math.max(...factor.weights)).toBeLessThanOrEqual(0.2 + 1e-15);
    expect(maxDifference(factor.weights, denseBounded.weights)).toBeLessThan(1e-12);
    expect(factor.budgetError).toBeCloseTo(denseBounded.budgetError, 12);
  });

  it('falls back to coordinate descent in factor form when Newton is capped', () => {
    const ccd = equalRiskContribution(model, { maxNewtonIterations: 0 });
    expect(ccd.solver).toBe('ccd');
    expect(ccd.budgetError).toBeLessThan(1e-10);
    expect(maxDifference(ccd.weights, equalRiskContribution(model).weights)).toBeLessThan(1e-9);
  });
});
