import fc from 'fast-check';
import { riskBudgetingWeights } from '../../../../risk/allocation/riskBudgeting';
import type { CovarianceMatrix } from '../../../../risk/covariance';
import { denseCovarianceOf, factorCovarianceFromRows } from '../../../../risk/factorModel';
import { riskContributions } from '../../../../risk/measures';

/** Σ = AᵀA/n + εI: positive definite for any A. */
function covFrom(entries: readonly number[], n: number, epsilon: number): CovarianceMatrix<'daily'> {
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += entries[k * n + i] * entries[k * n + j];
      values[i * n + j] = s / n + (i === j ? epsilon : 0);
    }
  }
  return { unit: 'daily', assets: Array.from({ length: n }, (_, i) => `a${i}`), values };
}

const problem = fc.integer({ min: 2, max: 30 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    entries: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n * n, maxLength: n * n }),
    epsilon: fc.double({ min: 1e-3, max: 1, noNaN: true }),
    rawBudgets: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

describe('risk budgeting property', () => {
  it('for random PD Σ and positive budgets, relative risk contributions equal b to 1e-10 and weights sum to 1', () => {
    fc.assert(
      fc.property(problem, ({ n, entries, epsilon, rawBudgets }) => {
        const cov = covFrom(entries, n, epsilon);
        const total = rawBudgets.reduce((s, b) => s + b, 0);
        const budgets = rawBudgets.map((b) => b / total);
        budgets[n - 1] = 1 - budgets.slice(0, n - 1).reduce((s, b) => s + b, 0);
        const r = riskBudgetingWeights(cov, budgets);
        const rc = riskContributions(cov, r.weights).relative;
        const worst = Math.max(...rc.map((x, i) => Math.abs(x - budgets[i])));
        const weightSum = r.weights.reduce((s, w) => s + w, 0);
        return r.converged && worst < 1e-10 && Math.abs(weightSum - 1) < 1e-12 && r.weights.every((w) => w > 0);
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });
});

const factorProblem = fc.record({ n: fc.integer({ min: 2, max: 40 }), k: fc.integer({ min: 0, max: 4 }) }).chain(({ n, k }) =>
  fc.record({
    n: fc.constant(n),
    k: fc.constant(k),
    loadings: fc.array(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: k, maxLength: k }), {
      minLength: n,
      maxLength: n,
    }),
    root: fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: k, maxLength: k }), { minLength: k, maxLength: k }),
    specific: fc.array(fc.double({ min: 1e-3, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    rawBudgets: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

describe('risk budgeting property, factor form', () => {
  it('for random Σ = BFBᵀ + D, the Woodbury solve meets b to 1e-10 and equals the dense solve of the expanded Σ', () => {
    fc.assert(
      fc.property(factorProblem, ({ n, k, loadings, root, specific, rawBudgets }) => {
        const f = root.map((ri) => root.map((rj) => ri.reduce((s, v, c) => s + v * rj[c], 0)));
        const model = factorCovarianceFromRows(
          'daily',
          Array.from({ length: n }, (_, i) => `a${i}`),
          Array.from({ length: k }, (_, j) => `f${j}`),
          loadings,
          f,
          specific,
        );
        const total = rawBudgets.reduce((s, b) => s + b, 0);
        const budgets = rawBudgets.map((b) => b / total);
        budgets[n - 1] = 1 - budgets.slice(0, n - 1).reduce((s, b) => s + b, 0);
        const factor = riskBudgetingWeights(model, budgets);
        const dense = denseCovarianceOf(model);
        const rc = riskContributions(dense, factor.weights).relative;
        const worst = Math.max(...rc.map((x, i) => Math.abs(x - budgets[i])));
        const reference = riskBudgetingWeights(dense, budgets).weights;
        const gap = Math.max(...factor.weights.map((w, i) => Math.abs(w - reference[i])));
        return factor.converged && factor.newtonSystem === 'woodbury' && worst < 1e-10 && gap < 1e-10;
      }),
      { numRuns: 200, seed: 20240602 },
    );
  });
});
