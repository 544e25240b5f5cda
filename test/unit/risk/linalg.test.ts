import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import {
  cholesky,
  choleskySolve,
  conjugateGradient,
  diagonalPlusLowRankSolver,
  diagonalPlusLowRankTimes,
  gram,
  matVec,
  symmetricEigen,
} from '../../../risk/linalg';
import { seededRandom } from './helpers';

function randomSymmetric(n: number, seed: number, rank = n): Float64Array {
  const rand = seededRandom(seed);
  const cols = Array.from({ length: n }, () => Float64Array.from({ length: rank }, () => rand() - 0.5));
  return gram(cols);
}

describe('linear algebra kernels', () => {
  it('gram matches a naive double loop, symmetric and rectangular, for sizes around the 4-wide kernel', () => {
    const rand = seededRandom(3);
    for (const n of [1, 3, 4, 5, 9]) {
      const a = Array.from({ length: n }, () => Float64Array.from({ length: 7 }, () => rand()));
      const b = Array.from({ length: 6 }, () => Float64Array.from({ length: 7 }, () => rand()));
      const sym = gram(a);
      const rect = gram(a, b);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++)
          expect(sym[i * n + j]).toBeCloseTo(
            a[i].reduce((s, x, t) => s + x * a[j][t], 0),
            14,
          );
        for (let j = 0; j < 6; j++)
          expect(rect[i * 6 + j]).toBeCloseTo(
            a[i].reduce((s, x, t) => s + x * b[j][t], 0),
            14,
          );
      }
    }
  });

  it('solves a positive definite system by Cholesky and rejects an indefinite one', () => {
    const n = 12;
    const a = randomSymmetric(n, 4, 30);
    const x = Float64Array.from({ length: n }, (_, i) => i - 5);
    const l = cholesky(a, n)!;
    const solved = choleskySolve(l, matVec(a, x, n), n);
    solved.forEach((v, i) => expect(v).toBeCloseTo(x[i], 9));
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeUndefined();
  });

  it.each([
    [6, 1, 6],
    [40, 2, 40],
    [60, 3, 20],
  ])('eigendecomposition agrees with ml-matrix (n = %p, seed %p, rank %p)', (n, seed, rank) => {
    const a = randomSymmetric(n, seed, rank);
    const mine = symmetricEigen(a, n);
    const m = new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
    const reference = [...new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues].sort((p, q) => p - q);
    const scale = Math.max(...reference.map(Math.abs));
    mine.values.forEach((v, k) => expect(Math.abs(v - reference[k]) / scale).toBeLessThan(1e-12));
    // A·v_k = λ_k·v_k with unit, mutually orthogonal v_k.
    for (let k = 0; k < n; k++) {
      const vk = mine.vectors.subarray(k * n, (k + 1) * n);
      const av = matVec(a, vk, n);
      av.forEach((x, i) => expect(Math.abs(x - mine.values[k] * vk[i]) / scale).toBeLessThan(1e-12));
      const other = mine.vectors.subarray(((k + 1) % n) * n, (((k + 1) % n) + 1) * n);
      expect(vk.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 12);
      if (n > 1) expect(Math.abs(vk.reduce((s, x, i) => s + x * other[i], 0))).toBeLessThan(1e-12);
    }
  });

  it('handles repeated eigenvalues (identity, diagonal) and 1×1', () => {
    const eye = symmetricEigen(Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), 3);
    expect(Array.from(eye.values)).toEqual([1, 1, 1]);
    const diag = symmetricEigen(Float64Array.from([3, 0, 0, 1]), 2);
    expect(Array.from(diag.values)).toEqual([1, 3]);
    expect(Math.abs(diag.vectors[1])).toBeCloseTo(1, 15);
    expect(Array.from(symmetricEigen(Float64Array.from([2.5]), 1).values)).toEqual([2.5]);
  });

  it('matVec (four rows per pass) is bit-identical to the plain row loop for every remainder', () => {
    const rand = seededRandom(8);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9]) {
      const a = Float64Array.from({ length: n * n }, () => rand() - 0.5);
      const x = Float64Array.from({ length: n }, () => rand() - 0.5);
      const plain = Float64Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
        return s;
      });
      expect(Array.from(matVec(a, x, n))).toEqual(Array.from(plain));
    }
  });
});

describe('conjugate gradients', () => {
  const n = 40;
  const a = randomSymmetric(n, 5, 60);
  const apply = (p: Float64Array, out: Float64Array) => void matVec(a, p, n, out);
  const inverseDiagonal = Float64Array.from({ length: n }, (_, i) => 1 / a[i * n + i]);
  const expected = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const rhs = matVec(a, expected, n);

  it('solves a positive definite system to the requested residual and returns A·x from its own products', () => {
    const x = new Float64Array(n);
    const product = new Float64Array(n);
    const outcome = conjugateGradient(apply, inverseDiagonal, rhs, x, { relativeTolerance: 1e-13, maxIterations: 200, product });
    expect(outcome.converged).toBe(true);
    expect(outcome.iterations).toBeLessThanOrEqual(n + 5);
    x.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-9));
    const direct = matVec(a, x, n);
    product.forEach((v, i) => expect(Math.abs(v - direct[i])).toBeLessThan(1e-10 * Math.abs(rhs[i]) + 1e-12));
  });

  it('stops at the iteration cap and says it did not converge', () => {
    const x = new Float64Array(n);
    const outcome = conjugateGradient(apply, inverseDiagonal, rhs, x, { relativeTolerance: 1e-14, maxIterations: 3 });
    expect(outcome).toEqual({ iterations: 3, converged: false });
  });

  it('reports an indefinite operator instead of dividing by a non-positive curvature', () => {
    const indefinite = (p: Float64Array, out: Float64Array) => p.forEach((v, i) => (out[i] = (i % 2 === 0 ? 1 : -1) * v));
    const ones = new Float64Array(4).fill(1);
    const outcome = conjugateGradient(indefinite, ones, ones, new Float64Array(4), { relativeTolerance: 1e-12, maxIterations: 10 });
    expect(outcome.converged).toBe(false);
  });
});

describe('diagonal plus low rank (Woodbury)', () => {
  // e spans twelve orders of magnitude, as b/x² + specific variance can in a risk-budgeting Newton step.
  const n = 30;
  const k = 4;
  const rand = seededRandom(9);
  const u = Float64Array.from({ length: n * k }, () => rand() - 0.5);
  const e = Float64Array.from({ length: n }, (_, i) => 10 ** (-8 + (12 * i) / (n - 1)));
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? e[i] : 0;
      for (let c = 0; c < k; c++) s += u[i * k + c] * u[j * k + c];
      dense[i * n + j] = s;
    }
  }

  it('multiplies like the dense matrix', () => {
    const x = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
    const direct = matVec(dense, x, n);
    diagonalPlusLowRankTimes(e, u, k, x).forEach((v, i) =>
      expect(Math.abs(v - direct[i])).toBeLessThan(1e-14 * Math.max(1, Math.abs(direct[i]))),
    );
  });

  it('solves to a backward error at rounding level, matching a dense Cholesky solve', () => {
    const solve = diagonalPlusLowRankSolver(e, u, k)!;
    const r = Float64Array.from({ length: n }, (_, i) => 1 + (i % 3));
    const y = solve(r);
    // Normwise backward error ‖r − Hy‖ / (‖H‖·‖y‖ + ‖r‖), infinity norms.
    const norm = (v: Float64Array) => Math.max(...v.map(Math.abs));
    const rowSums = Float64Array.from({ length: n }, (_, i) => dense.subarray(i * n, (i + 1) * n).reduce((s, v) => s + Math.abs(v), 0));
    const residual = diagonalPlusLowRankTimes(e, u, k, y).map((v, i) => v - r[i]);
    expect(norm(residual) / (norm(rowSums) * norm(y) + norm(r))).toBeLessThan(1e-15);
    const reference = choleskySolve(cholesky(dense, n)!, r, n);
    y.forEach((v, i) => expect(Math.abs(v - reference[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(reference[i]))));
  });

  it('refuses a diagonal that is not positive', () => {
    expect(diagonalPlusLowRankSolver(Float64Array.from([1, 0]), new Float64Array(2), 1)).toBeUndefined();
  });
});
