import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { cholesky, choleskySolve, gram, matVec, symmetricEigen } from '../../../risk/linalg';
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
});
