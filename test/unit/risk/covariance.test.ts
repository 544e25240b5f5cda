import {
  annualizeCovariance,
  covarianceFromRows,
  ensurePositiveDefinite,
  ewmaCovariance,
  ewmaLambda,
  ledoitWolf,
  ledoitWolfConstantCorrelation,
  pairwiseSampleCovariance,
  sampleCovariance,
} from '../../../risk/covariance';
import { cholesky, symmetricEigen } from '../../../risk/linalg';
import type { ReturnMatrix } from '../../../risk/returns';
import { periodsPerYear } from '../../../risk/units';
import { gaussian, seededRandom } from './helpers';

function matrix(rows: number[][]): ReturnMatrix {
  // rows[t][i]: return of asset i in period t.
  const n = rows[0].length;
  return {
    assets: Array.from({ length: n }, (_, i) => `A${i}`),
    dates: rows.map((_, t) => `2024-01-${String(t + 1).padStart(2, '0')}`),
    columns: Array.from({ length: n }, (_, i) => Float64Array.from(rows, (r) => r[i])),
  };
}

function randomReturns(t: number, n: number, seed: number): number[][] {
  const rand = seededRandom(seed);
  const common = Array.from({ length: t }, () => gaussian(rand));
  return Array.from({ length: t }, (_, s) =>
    Array.from({ length: n }, (_, i) => 0.01 * ((i + 1) * 0.3 * common[s] + gaussian(rand)) + 0.0005 * i),
  );
}

const at = (values: Float64Array, n: number, i: number, j: number) => values[i * n + j];

describe('sample covariance', () => {
  it('matches a hand computation (centred, divided by T − 1)', () => {
    // a = (1, 2, 3) %, b = (2, 0, 1) %: means 2 %, 1 %; deviations a (−1, 0, 1), b (1, −1, 0) (in %).
    // var a = 2/2 = 1, var b = 2/2 = 1, cov = (−1 + 0 + 0)/2 = −0.5 (in %², i.e. ×1e-4).
    const est = sampleCovariance(
      matrix([
        [0.01, 0.02],
        [0.02, 0],
        [0.03, 0.01],
      ]),
    );
    const v = est.covariance.values;
    expect(v[0]).toBeCloseTo(1e-4, 18);
    expect(v[3]).toBeCloseTo(1e-4, 18);
    expect(v[1]).toBeCloseTo(-0.5e-4, 18);
    expect(est.covariance.unit).toBe('daily');
    expect(est.shrinkage).toBeNull();
    expect(est.repaired).toBeNull();
  });

  it('annualizes by the given periods per year, never a hard-wired 252', () => {
    const est = sampleCovariance(
      matrix([
        [0.01, 0.02],
        [0.02, 0],
        [0.03, 0.01],
      ]),
    );
    const crypto = annualizeCovariance(est.covariance, periodsPerYear(365));
    expect(crypto.unit).toBe('annualized');
    expect(crypto.values[0]).toBeCloseTo(365e-4, 15);
  });

  it('rejects missing returns instead of guessing', () => {
    expect(() =>
      sampleCovariance(
        matrix([
          [0.01, NaN],
          [0.02, 0],
          [0.03, 0.01],
        ]),
      ),
    ).toThrow(/missing return/);
  });
});

describe('pairwise-complete covariance', () => {
  it('uses only the overlap of each pair (pandas convention)', () => {
    // b is missing in period 0; cov(a, b) uses periods 1..3 only, var a uses all four.
    const r = matrix([
      [0.05, NaN],
      [0.01, 0.02],
      [0.02, 0],
      [0.03, 0.01],
    ]);
    const est = pairwiseSampleCovariance(r);
    const full = sampleCovariance(
      matrix([
        [0.01, 0.02],
        [0.02, 0],
        [0.03, 0.01],
      ]),
    ).covariance.values;
    expect(est.covariance.values[1]).toBeCloseTo(full[1], 18);
    expect(est.covariance.values[3]).toBeCloseTo(full[3], 18);
    const a = [0.05, 0.01, 0.02, 0.03];
    const mean = a.reduce((s, x) => s + x, 0) / 4;
    expect(est.covariance.values[0]).toBeCloseTo(a.reduce((s, x) => s + (x - mean) ** 2, 0) / 3, 18);
    expect(est.observations).toBe(3);
  });
});

describe('EWMA covariance', () => {
  it('equals the normalized zero-mean recursion S_t = λS_{t−1} + r_t r_tᵀ, W_t = λW_{t−1} + 1, Σ = S_T / W_T', () => {
    const rows = randomReturns(40, 3, 7);
    const lambda = 0.94;
    const s = new Float64Array(9);
    let w = 0;
    for (const r of rows) {
      for (let k = 0; k < 9; k++) s[k] = lambda * s[k] + r[Math.floor(k / 3)] * r[k % 3];
      w = lambda * w + 1;
    }
    const est = ewmaCovariance(matrix(rows), { lambda });
    for (let k = 0; k < 9; k++) expect(est.covariance.values[k]).toBeCloseTo(s[k] / w, 16);
  });

  it('converts a half-life to λ = 0.5^(1/h)', () => {
    expect(ewmaLambda({ halfLife: 10 })).toBeCloseTo(0.5 ** 0.1, 15);
    expect(ewmaLambda({})).toBe(0.94);
    expect(() => ewmaLambda({ lambda: 1 })).toThrow(/\(0, 1\)/);
  });

  it('puts more weight on recent returns than the sample estimator', () => {
    const rows = [...Array.from({ length: 50 }, () => [0.001, -0.001]), ...Array.from({ length: 5 }, () => [0.05, -0.05])];
    const ewma = ewmaCovariance(matrix(rows), { lambda: 0.9 }).covariance.values[0];
    expect(ewma).toBeGreaterThan(0.9 * 0.05 ** 2 * (1 - 0.9 ** 5));
  });
});

describe('Ledoit–Wolf toward a scaled identity (scikit-learn convention)', () => {
  // Independent computation straight from the paper's definitions, one observation at a time:
  // S = XᵀX/T (X centred), μ = tr S / p, d² = ‖S − μI‖²/p, b̄² = (1/T²) Σ_t ‖x_t x_tᵀ − S‖²/p,
  // δ = min(b̄², d²)/d², Σ̂ = δμI + (1 − δ)S.
  function reference(rows: number[][]): { values: number[][]; shrinkage: number } {
    const t = rows.length;
    const p = rows[0].length;
    const means = Array.from({ length: p }, (_, i) => rows.reduce((s, r) => s + r[i], 0) / t);
    const x = rows.map((r) => r.map((v, i) => v - means[i]));
    const s = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => x.reduce((acc, r) => acc + r[i] * r[j], 0) / t));
    const mu = s.reduce((acc, row, i) => acc + row[i], 0) / p;
    let d2 = 0;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) d2 += (s[i][j] - (i === j ? mu : 0)) ** 2;
    d2 /= p;
    let b2 = 0;
    for (const r of x) for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) b2 += (r[i] * r[j] - s[i][j]) ** 2;
    b2 /= t * t * p;
    const delta = Math.min(b2, d2) / d2;
    return { values: s.map((row, i) => row.map((v, j) => delta * (i === j ? mu : 0) + (1 - delta) * v)), shrinkage: delta };
  }

  it.each([
    [30, 5, 1],
    [12, 8, 2],
    [200, 3, 3],
  ])('matches the definition (T = %p, p = %p)', (t, p, seed) => {
    const rows = randomReturns(t, p, seed);
    const ref = reference(rows);
    const est = ledoitWolf(matrix(rows));
    expect(est.shrinkage).toBeCloseTo(ref.shrinkage, 12);
    expect(est.shrinkage!).toBeGreaterThan(0);
    expect(est.shrinkage!).toBeLessThanOrEqual(1);
    ref.values.forEach((row, i) => row.forEach((v, j) => expect(at(est.covariance.values, p, i, j)).toBeCloseTo(v, 15)));
  });

  it('keeps the trace of the divide-by-T sample covariance', () => {
    const rows = randomReturns(20, 6, 9);
    const lw = ledoitWolf(matrix(rows)).covariance.values;
    const sample = sampleCovariance(matrix(rows)).covariance.values;
    let tl = 0;
    let ts = 0;
    for (let i = 0; i < 6; i++) {
      tl += lw[i * 6 + i];
      ts += (sample[i * 6 + i] * 19) / 20;
    }
    expect(tl).toBeCloseTo(ts, 15);
  });
});

describe('Ledoit–Wolf toward constant correlation (2004, "Honey, I shrunk…")', () => {
  // Independent computation with explicit sums over t, as in the paper's appendix.
  function reference(rows: number[][]): { values: number[][]; shrinkage: number } {
    const t = rows.length;
    const n = rows[0].length;
    const means = Array.from({ length: n }, (_, i) => rows.reduce((s, r) => s + r[i], 0) / t);
    const y = rows.map((r) => r.map((v, i) => v - means[i]));
    const s = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => y.reduce((acc, r) => acc + r[i] * r[j], 0) / t));
    let rSum = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) rSum += s[i][j] / Math.sqrt(s[i][i] * s[j][j]);
    const rBar = (2 * rSum) / (n * (n - 1));
    const f = s.map((row, i) => row.map((v, j) => (i === j ? v : rBar * Math.sqrt(s[i][i] * s[j][j]))));
    const piMat = s.map((row, i) => row.map((v, j) => y.reduce((acc, r) => acc + (r[i] * r[j] - v) ** 2, 0) / t));
    const theta = (k: number, i: number, j: number) => y.reduce((acc, r) => acc + (r[k] * r[k] - s[k][k]) * (r[i] * r[j] - s[i][j]), 0) / t;
    let pi = 0;
    let rho = 0;
    let gamma = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        pi += piMat[i][j];
        gamma += (f[i][j] - s[i][j]) ** 2;
        if (i === j) rho += piMat[i][i];
        else rho += (rBar / 2) * (Math.sqrt(s[j][j] / s[i][i]) * theta(i, i, j) + Math.sqrt(s[i][i] / s[j][j]) * theta(j, i, j));
      }
    }
    const delta = Math.max(0, Math.min(1, (pi - rho) / gamma / t));
    return { values: s.map((row, i) => row.map((v, j) => delta * f[i][j] + (1 - delta) * v)), shrinkage: delta };
  }

  it.each([
    [40, 4, 11],
    [15, 6, 12],
  ])('matches the definition (T = %p, n = %p)', (t, n, seed) => {
    const rows = randomReturns(t, n, seed);
    const ref = reference(rows);
    const est = ledoitWolfConstantCorrelation(matrix(rows));
    expect(est.shrinkage).toBeCloseTo(ref.shrinkage, 12);
    expect(est.shrinkage!).toBeGreaterThan(0);
    ref.values.forEach((row, i) => row.forEach((v, j) => expect(at(est.covariance.values, n, i, j)).toBeCloseTo(v, 15)));
  });
});

describe('positive-definite repair', () => {
  it('leaves a well-conditioned matrix alone', () => {
    const values = Float64Array.from([0.04, 0.01, 0.01, 0.09]);
    expect(ensurePositiveDefinite(values, 2).repaired).toBeNull();
  });

  it('repairs a duplicated asset, reports it, and returns a matrix that factors', () => {
    // Asset 3 is asset 1 again: the sample covariance is singular.
    const rows = randomReturns(30, 2, 5).map((r) => [r[0], r[1], r[0]]);
    const est = sampleCovariance(matrix(rows));
    expect(est.repaired).not.toBeNull();
    const { minEigenBefore, floor, eigenvaluesRaised } = est.repaired!;
    expect(Math.abs(minEigenBefore)).toBeLessThan(1e-18);
    expect(floor).toBeGreaterThan(0);
    expect(eigenvaluesRaised).toBe(1);
    expect(cholesky(est.covariance.values, 3)).toBeDefined();
    expect(symmetricEigen(est.covariance.values, 3).values[0]).toBeGreaterThan(floor * (1 - 1e-6));
  });

  it('repairs an indefinite input (more assets than observations)', () => {
    const est = sampleCovariance(matrix(randomReturns(4, 6, 8)));
    expect(est.repaired!.eigenvaluesRaised).toBe(3);
    expect(cholesky(est.covariance.values, 6)).toBeDefined();
  });

  it('covarianceFromRows checks the shape', () => {
    expect(() => covarianceFromRows('daily', ['a', 'b'], [[1, 0]])).toThrow(/2×2/);
  });
});
