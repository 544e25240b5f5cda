import {
  type FactorCovariance,
  annualizeFactorCovariance,
  covarianceTimes,
  denseCovarianceOf,
  factorCovarianceColumn,
  factorCovarianceDiagonal,
  factorCovarianceFromRows,
  factorCovarianceTimes,
  factorCovarianceToRows,
  factorExposures,
  factorVariance,
  lowRankForm,
  statisticalFactorModel,
  subFactorCovariance,
} from '../../../risk/factorModel';
import { gram, symmetricEigen } from '../../../risk/linalg';
import { seededRng } from '../../../risk/random';
import type { ReturnMatrix } from '../../../risk/returns';
import { periodsPerYear } from '../../../risk/units';
import { randomFactorModel } from './helpers';

/** Σ = BFBᵀ + D by the definition, entry by entry. */
function naiveDense(model: FactorCovariance): number[][] {
  const { loadings, factorCovariance } = factorCovarianceToRows(model);
  const k = model.factors.length;
  return loadings.map((bi, i) =>
    loadings.map((bj, j) => {
      let s = i === j ? model.specificVariances[i] : 0;
      for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) s += bi[a] * factorCovariance[a][c] * bj[c];
      return s;
    }),
  );
}

const closeTo = (actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number) => {
  const scale = Math.max(...Array.from(expected, Math.abs));
  Array.from(actual).forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(relative * scale));
};

describe('factor covariance Σ = BFBᵀ + D', () => {
  const model = randomFactorModel(25, 4, 1);
  const dense = naiveDense(model);
  const x = Float64Array.from({ length: 25 }, (_, i) => Math.sin(i) + 0.1);
  const denseTimes = dense.map((row) => row.reduce((s, v, j) => s + v * x[j], 0));

  it('multiplies, takes xᵀΣx, the diagonal and one column like the n×n matrix', () => {
    closeTo(factorCovarianceTimes(model, x), denseTimes, 1e-13);
    closeTo(covarianceTimes(model, x), denseTimes, 1e-13);
    expect(factorVariance(model, x)).toBeCloseTo(
      denseTimes.reduce((s, v, i) => s + v * x[i], 0),
      12,
    );
    closeTo(
      factorCovarianceDiagonal(model),
      dense.map((row, i) => row[i]),
      1e-13,
    );
    closeTo(
      factorCovarianceColumn(model, 7),
      dense.map((row) => row[7]),
      1e-13,
    );
    closeTo(
      factorExposures(model, x),
      factorCovarianceToRows(model).loadings.reduce((acc, bi, i) => acc.map((v, a) => v + bi[a] * x[i]), [0, 0, 0, 0]),
      1e-14,
    );
  });

  it('expands to the dense covariance, also through the low-rank root of a rank-deficient F', () => {
    closeTo(denseCovarianceOf(model).values, dense.flat(), 1e-13);
    const deficient = randomFactorModel(12, 5, 2, 2);
    expect(lowRankForm(deficient).rank).toBe(2);
    closeTo(denseCovarianceOf(deficient).values, naiveDense(deficient).flat(), 1e-13);
  });

  it('restricts to a subset of assets like subCovariance does', () => {
    const sub = subFactorCovariance(model, [20, 3, 11]);
    expect(sub.assets).toEqual(['A20', 'A3', 'A11']);
    closeTo(
      denseCovarianceOf(sub).values,
      [20, 3, 11].flatMap((i) => [20, 3, 11].map((j) => dense[i][j])),
      1e-13,
    );
    expect(() => subFactorCovariance(model, [25])).toThrow(/asset index 25 is outside the 25 assets/);
  });

  it('round-trips through plain rows and annualizes F and D but not the loadings', () => {
    const rows = factorCovarianceToRows(model);
    const again = factorCovarianceFromRows(
      'annualized',
      model.assets,
      model.factors,
      rows.loadings,
      rows.factorCovariance,
      rows.specificVariances,
    );
    expect(Array.from(again.loadings)).toEqual(Array.from(model.loadings));
    const daily = { ...model, unit: 'daily' as const };
    const annual = annualizeFactorCovariance(daily, periodsPerYear(252));
    expect(annual.unit).toBe('annualized');
    expect(annual.loadings).toBe(model.loadings);
    closeTo(
      denseCovarianceOf(annual).values,
      dense.flat().map((v) => v * 252),
      1e-13,
    );
  });

  /** One asset on two factors with the given F. */
  const withFactorCovariance = (f: number[][]) => () => factorCovarianceFromRows('daily', ['a'], ['f', 'g'], [[1, 1]], f, [1]);
  it.each([
    [
      'loadings of the wrong shape',
      () => factorCovarianceFromRows('daily', ['a', 'b'], ['f'], [[1]], [[1]], [1, 1]),
      /loadings must be 2×1/,
    ],
    ['a non-square F', withFactorCovariance([[1, 0]]), /factor covariance must be 2×2/],
    [
      'an asymmetric F',
      withFactorCovariance([
        [1, 0.5],
        [0, 1],
      ]),
      /not symmetric at g, f/,
    ],
    [
      'an F entry that is not a number',
      withFactorCovariance([
        [1, 0],
        [0, NaN],
      ]),
      /factor covariance of g, g is not a number/,
    ],
    [
      'an indefinite F',
      withFactorCovariance([
        [1, 2],
        [2, 1],
      ]),
      /not positive semi-definite/,
    ],
    [
      'a zero specific variance',
      () => factorCovarianceFromRows('daily', ['a', 'b'], ['f'], [[1], [2]], [[1]], [1, 0]),
      /specific variance of asset b is 0/,
    ],
    [
      'a loading that is not a number',
      () => factorCovarianceFromRows('daily', ['a'], ['f'], [[NaN]], [[1]], [1]),
      /loading of asset a on factor f/,
    ],
  ])('rejects %s with a sentence naming it', (_, build, message) => {
    expect(build).toThrow(message);
  });
});

/** T returns of n assets from k planted factors of decreasing strength plus noise. */
function plantedReturns(n: number, t: number, k: number, seed: number): ReturnMatrix {
  const rng = seededRng(seed);
  const loadings = Array.from({ length: n }, () => Array.from({ length: k }, (_, j) => (j === 0 ? 0.5 + rng.uniform() : rng.normal())));
  const columns = Array.from({ length: n }, () => new Float64Array(t));
  for (let s = 0; s < t; s++) {
    const f = Array.from({ length: k }, (_, j) => (0.02 / (j + 1)) * rng.normal());
    for (let i = 0; i < n; i++) columns[i][s] = loadings[i].reduce((acc, l, j) => acc + l * f[j], 0.004 * rng.normal());
  }
  return { assets: Array.from({ length: n }, (_, i) => `S${i}`), dates: Array.from({ length: t }, (_, s) => `d${s}`), columns };
}

describe('statistical factor model (principal components by Lanczos)', () => {
  const returns = plantedReturns(60, 300, 3, 11);
  const t = returns.dates.length;
  const centred = returns.columns.map((c) => {
    const mean = c.reduce((s, v) => s + v, 0) / t;
    return c.map((v) => v - mean);
  });
  const sample = gram(centred).map((v) => v / (t - 1));
  const exact = symmetricEigen(sample, 60);
  const estimate = statisticalFactorModel(returns, { factors: 3, tolerance: 1e-14 });
  const model = estimate.covariance;

  it('finds the leading eigenvalues and eigenvectors of the sample covariance', () => {
    expect(estimate.converged).toBe(true);
    for (let j = 0; j < 3; j++) {
      const value = exact.values[59 - j];
      expect(Math.abs(model.factorCovariance[j * 3 + j] - value) / value).toBeLessThan(1e-12);
      const v = exact.vectors.subarray((59 - j) * 60, (60 - j) * 60);
      const overlap = Math.abs(v.reduce((s, vi, i) => s + vi * model.loadings[i * 3 + j], 0));
      expect(1 - overlap).toBeLessThan(1e-10);
    }
    const total = exact.values.reduce((s, v) => s + v, 0);
    expect(estimate.explainedVariance).toBeCloseTo((exact.values[59] + exact.values[58] + exact.values[57]) / total, 12);
  });

  it('keeps every sample variance on the diagonal and signs each factor so its loadings sum to ≥ 0', () => {
    closeTo(
      factorCovarianceDiagonal(model),
      Array.from({ length: 60 }, (_, i) => sample[i * 60 + i]),
      1e-13,
    );
    expect(estimate.specificVariancesFloored).toBe(0);
    for (let j = 0; j < 3; j++) expect(model.loadings.filter((_, at) => at % 3 === j).reduce((s, v) => s + v, 0)).toBeGreaterThanOrEqual(0);
  });

  it('is deterministic: the same returns give the same model bit for bit', () => {
    const again = statisticalFactorModel(returns, { factors: 3, tolerance: 1e-14 }).covariance;
    expect(Array.from(again.loadings)).toEqual(Array.from(model.loadings));
    expect(Array.from(again.specificVariances)).toEqual(Array.from(model.specificVariances));
  });

  it('estimates 800 assets from 250 returns (more assets than observations: the sample covariance is singular)', () => {
    const wide = statisticalFactorModel(plantedReturns(800, 250, 3, 12), { factors: 3 });
    expect(wide.converged).toBe(true);
    expect(wide.covariance.loadings).toHaveLength(2400);
    expect(wide.explainedVariance).toBeGreaterThan(0.5);
  });

  it('handles returns of lower rank than asked: an exact 2-factor market with k = 3 (specific variances floored)', () => {
    const rng = seededRng(13);
    const loadings = Array.from({ length: 40 }, () => [0.5 + rng.uniform(), rng.normal()]);
    const f = Array.from({ length: 120 }, () => [0.01 * rng.normal(), 0.005 * rng.normal()]);
    const exactReturns: ReturnMatrix = {
      assets: loadings.map((_, i) => `X${i}`),
      dates: f.map((_, s) => `d${s}`),
      columns: loadings.map((l) => Float64Array.from(f, (fs) => l[0] * fs[0] + l[1] * fs[1])),
    };
    const exactModel = statisticalFactorModel(exactReturns, { factors: 3 });
    expect(exactModel.converged).toBe(true);
    expect(exactModel.explainedVariance).toBeCloseTo(1, 10);
    expect(exactModel.covariance.factorCovariance[8]).toBeLessThan(1e-12 * exactModel.covariance.factorCovariance[0]);
    expect(exactModel.specificVariancesFloored).toBe(40);
  });

  it('rejects a factor count outside 1..min(n, T − 1), a constant asset and a missing return', () => {
    expect(() => statisticalFactorModel(returns, { factors: 0 })).toThrow(/takes 1 to 60 factors, not 0/);
    expect(() => statisticalFactorModel(plantedReturns(5, 4, 1, 1), { factors: 4 })).toThrow(/takes 1 to 3 factors, not 4/);
    const constant = { ...returns, columns: returns.columns.map((c, i) => (i === 2 ? new Float64Array(t).fill(0.001) : c)) };
    expect(() => statisticalFactorModel(constant, { factors: 2 })).toThrow(/asset S2 has zero variance/);
    const gap = { ...returns, columns: returns.columns.map((c, i) => (i === 1 ? c.map((v, s) => (s === 5 ? NaN : v)) : c)) };
    expect(() => statisticalFactorModel(gap, { factors: 2 })).toThrow(/S1 has a missing return on d5/);
  });
});
