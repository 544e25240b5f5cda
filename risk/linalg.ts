/**
 * Small dense linear algebra on row-major Float64Arrays (n×n, symmetric where stated). The hot paths of
 * covariance estimation and the risk-budgeting solver live here; ml-matrix is used only for the symmetric
 * eigendecomposition, which runs on the rare repair path.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * G[i][j] = Σ_t a_i[t]·b_j[t] for column sets a and b (same length); symmetric fast path when a === b.
 * The kernel computes four dot products per pass over a_i, so each a_i[t] load feeds four multiply-adds.
 */
export function gram(a: readonly Float64Array[], b: readonly Float64Array[] = a): Float64Array {
  const n = a.length;
  const m = b.length;
  const out = new Float64Array(n * m);
  const symmetric = a === b;
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    let j = symmetric ? i : 0;
    for (; j + 3 < m; j += 4) {
      const [s0, s1, s2, s3] = dot4(ai, b[j], b[j + 1], b[j + 2], b[j + 3]);
      out[i * m + j] = s0;
      out[i * m + j + 1] = s1;
      out[i * m + j + 2] = s2;
      out[i * m + j + 3] = s3;
    }
    for (; j < m; j++) out[i * m + j] = dot(ai, b[j]);
  }
  if (symmetric) for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[i * m + j] = out[j * m + i];
  return out;
}

const dot4Result: [number, number, number, number] = [0, 0, 0, 0];

/** Four dot products sharing x; returns a reused tuple (copy before the next call). */
function dot4(x: Float64Array, y0: Float64Array, y1: Float64Array, y2: Float64Array, y3: Float64Array): [number, number, number, number] {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const len = x.length;
  for (let t = 0; t < len; t++) {
    const xt = x[t];
    s0 += xt * y0[t];
    s1 += xt * y1[t];
    s2 += xt * y2[t];
    s3 += xt * y3[t];
  }
  dot4Result[0] = s0;
  dot4Result[1] = s1;
  dot4Result[2] = s2;
  dot4Result[3] = s3;
  return dot4Result;
}

export function dot(x: Float64Array, y: Float64Array): number {
  const len = x.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  // Four accumulators break the add dependency chain; roughly 2× faster in V8 on long columns.
  for (; t + 3 < len; t += 4) {
    s0 += x[t] * y[t];
    s1 += x[t + 1] * y[t + 1];
    s2 += x[t + 2] * y[t + 2];
    s3 += x[t + 3] * y[t + 3];
  }
  for (; t < len; t++) s0 += x[t] * y[t];
  return s0 + s1 + s2 + s3;
}

/** y = A·x for a row-major n×n A. */
export function matVec(a: Float64Array, x: ArrayLike<number>, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += a[row + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** xᵀ·A·x. */
export function quadraticForm(a: Float64Array, x: ArrayLike<number>, n: number): number {
  const ax = matVec(a, x, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * ax[i];
  return s;
}

/**
 * In-place-free Cholesky A = L·Lᵀ (lower, row-major). Returns undefined when a pivot is not above
 * `minPivot` (A is not numerically positive definite at that threshold).
 */
export function cholesky(a: Float64Array, n: number, minPivot = 0): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= l[rowJ + k] * l[rowJ + k];
    if (!(d > minPivot)) return undefined;
    const ljj = Math.sqrt(d);
    l[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = s / ljj;
    }
  }
  return l;
}

/** Solve L·Lᵀ·x = b given the Cholesky factor L. */
export function choleskySolve(l: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= l[row + k] * y[k];
    y[i] = s / l[row + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

export interface SymmetricEigen {
  /** Ascending eigenvalues. */
  readonly values: Float64Array;
  /** Row-major n×n; column k is the eigenvector of values[k]. */
  readonly vectors: Float64Array;
}

export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const order = raw.map((_, k) => k).sort((p, q) => raw[p] - raw[q]);
  const vectorsMatrix = evd.eigenvectorMatrix;
  const values = Float64Array.from(order, (k) => raw[k]);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) vectors[i * n + c] = vectorsMatrix.get(i, order[c]);
  return { values, vectors };
}

export function trace(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i];
  return s;
}
