/**
 * Factor form of a covariance matrix, Σ = B·F·Bᵀ + diag(D): loadings B (n assets × k factors), factor
 * covariance F (k×k), specific variances D (n). For a large universe it is the covariance a budget can
 * carry and a solver can use: n·k + k² + n numbers instead of n², and Σ·x, xᵀΣx or one column of Σ
 * in O(n·k) instead of O(n²). Nothing here forms the n×n matrix except `denseCovarianceOf`.
 *
 * `statisticalFactorModel` estimates one from returns: the k leading principal components of the sample
 * covariance (F diagonal, B orthonormal), and the rest of each asset's sample variance as its specific
 * variance, so that the diagonal of Σ is the sample variance exactly.
 */
import { type CovarianceMatrix, type CovarianceUnit, centred, requireComplete } from './covariance';
import { dot, matVec, symmetricEigen } from './linalg';
import { seededRng } from './random';
import type { ReturnMatrix } from './returns';
import { DataError } from './timeseries';
import { type Fraction, type PeriodsPerYear, fraction } from './units';

export interface FactorCovariance<U extends CovarianceUnit = CovarianceUnit> {
  /** As for CovarianceMatrix: 'daily' = per observation period, 'annualized' = scaled by periods per year. */
  readonly unit: U;
  readonly assets: readonly string[];
  readonly factors: readonly string[];
  /** Row-major n×k: loadings[i·k + j] is asset i's exposure to factor j. */
  readonly loadings: Float64Array;
  /** Row-major k×k, symmetric positive semi-definite. */
  readonly factorCovariance: Float64Array;
  /** n specific (idiosyncratic) variances, each positive: they make Σ positive definite. */
  readonly specificVariances: Float64Array;
}

/** A covariance in either form; the risk-budgeting solver takes both. */
export type CovarianceModel<U extends CovarianceUnit = CovarianceUnit> = CovarianceMatrix<U> | FactorCovariance<U>;

export function isFactorCovariance<U extends CovarianceUnit>(model: CovarianceModel<U>): model is FactorCovariance<U> {
  return 'loadings' in model;
}

/** Σ·x for either form: O(n²) dense, O(n·k) factor. */
export function covarianceTimes(
  model: CovarianceModel,
  x: ArrayLike<number>,
  out: Float64Array = new Float64Array(x.length),
): Float64Array {
  if (isFactorCovariance(model)) return factorCovarianceTimes(model, x, out);
  const n = model.assets.length;
  if (x.length !== n) throw new DataError(`vector has ${x.length} entries for the ${n} assets of the covariance`);
  return matVec(model.values, x, n, out);
}

/** Builds a validated factor covariance from plain arrays (loadings as n rows of k, F as k rows of k). */
export function factorCovarianceFromRows<U extends CovarianceUnit>(
  unit: U,
  assets: readonly string[],
  factors: readonly string[],
  loadings: readonly (readonly number[])[],
  factorCovariance: readonly (readonly number[])[],
  specificVariances: readonly number[],
): FactorCovariance<U> {
  const n = assets.length;
  const k = factors.length;
  if (loadings.length !== n || loadings.some((row) => row.length !== k))
    throw new DataError(`factor loadings must be ${n}×${k} for ${n} assets and ${k} factors`);
  if (factorCovariance.length !== k || factorCovariance.some((row) => row.length !== k))
    throw new DataError(`factor covariance must be ${k}×${k} for ${k} factors`);
  const model: FactorCovariance<U> = {
    unit,
    assets: [...assets],
    factors: [...factors],
    loadings: Float64Array.from(loadings.flat()),
    factorCovariance: Float64Array.from(factorCovariance.flat()),
    specificVariances: Float64Array.from(specificVariances),
  };
  validateFactorCovariance(model);
  return model;
}

export function factorCovarianceToRows(model: FactorCovariance): {
  loadings: number[][];
  factorCovariance: number[][];
  specificVariances: number[];
} {
  const k = model.factors.length;
  const rows = (values: Float64Array, count: number) =>
    Array.from({ length: count }, (_, i) => Array.from(values.subarray(i * k, (i + 1) * k)));
  return {
    loadings: rows(model.loadings, model.assets.length),
    factorCovariance: rows(model.factorCovariance, k),
    specificVariances: Array.from(model.specificVariances),
  };
}

/** Throws a DataError naming the first thing wrong: shapes, non-finite numbers, F not symmetric PSD, D not positive. */
export function validateFactorCovariance(model: FactorCovariance): void {
  const n = model.assets.length;
  const k = model.factors.length;
  if (n === 0) throw new DataError('factor covariance has no assets');
  if (model.loadings.length !== n * k) throw new DataError(`factor loadings have ${model.loadings.length} entries, not ${n}×${k}`);
  if (model.factorCovariance.length !== k * k)
    throw new DataError(`factor covariance has ${model.factorCovariance.length} entries, not ${k}×${k}`);
  if (model.specificVariances.length !== n)
    throw new DataError(`factor model has ${model.specificVariances.length} specific variances for ${n} assets`);
  model.loadings.forEach((v, at) => {
    if (!Number.isFinite(v))
      throw new DataError(`loading of asset ${model.assets[Math.floor(at / k)]} on factor ${model.factors[at % k]} is not a number`);
  });
  model.specificVariances.forEach((v, i) => {
    if (!(v > 0) || !Number.isFinite(v))
      throw new DataError(`specific variance of asset ${model.assets[i]} is ${v}; it must be positive (Σ would be singular)`);
  });
  factorRoot(model.factorCovariance, model.factors);
}

/**
 * R with R·Rᵀ = F (k × r, r = rank of F), from the eigendecomposition so that a semi-definite F works.
 * Throws when F is not symmetric or has an eigenvalue below −1e-12 of its largest.
 */
function factorRoot(f: Float64Array, factors: readonly string[]): { root: Float64Array; rank: number } {
  const k = factors.length;
  f.forEach((v, at) => {
    if (!Number.isFinite(v)) throw new DataError(`factor covariance of ${factors[Math.floor(at / k)]}, ${factors[at % k]} is not a number`);
  });
  const scale = Math.max(0, ...Array.from(f, Math.abs));
  for (let a = 0; a < k; a++) {
    for (let c = 0; c < a; c++) {
      if (Math.abs(f[a * k + c] - f[c * k + a]) > 1e-12 * scale)
        throw new DataError(`factor covariance is not symmetric at ${factors[a]}, ${factors[c]}`);
    }
  }
  if (k === 0 || scale === 0) return { root: new Float64Array(0), rank: 0 };
  // Decompose F/scale; entries far below rounding of the others are flushed so denormals cannot upset QL.
  const normalized = f.map((v) => (Math.abs(v) < 1e-30 * scale ? 0 : v / scale));
  const { values, vectors } = symmetricEigen(normalized, k);
  const largest = values[k - 1];
  if (values[0] < -1e-12 * Math.max(largest, 0) || !(largest >= 0))
    throw new DataError(`factor covariance is not positive semi-definite (eigenvalue ${values[0] * scale})`);
  const kept = Array.from(values, (_, q) => q).filter((q) => values[q] > 1e-14 * largest);
  const rank = kept.length;
  const root = new Float64Array(k * rank);
  kept.forEach((q, c) => {
    const s = Math.sqrt(values[q] * scale);
    for (let a = 0; a < k; a++) root[a * rank + c] = vectors[q * k + a] * s;
  });
  return { root, rank };
}

/**
 * Σ = U·Uᵀ + diag(D) with U = B·R (n × r, R·Rᵀ = F): the symmetric low-rank form that products and
 * Woodbury solves use. r ≤ k (the rank of F).
 */
export function lowRankForm(model: FactorCovariance): { u: Float64Array; rank: number } {
  const n = model.assets.length;
  const k = model.factors.length;
  const { root, rank } = factorRoot(model.factorCovariance, model.factors);
  const u = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const bia = model.loadings[i * k + a];
      if (bia === 0) continue;
      for (let c = 0; c < rank; c++) u[i * rank + c] += bia * root[a * rank + c];
    }
  }
  return { u, rank };
}

/** Bᵀ·x: the factor exposures of a position vector x, O(n·k). */
export function factorExposures(model: FactorCovariance, x: ArrayLike<number>): Float64Array {
  const n = checkLength(model, x);
  const k = model.factors.length;
  const y = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    for (let a = 0; a < k; a++) y[a] += model.loadings[i * k + a] * xi;
  }
  return y;
}

/** Σ·x = B·(F·(Bᵀx)) + D∘x in O(n·k + k²). */
export function factorCovarianceTimes(
  model: FactorCovariance,
  x: ArrayLike<number>,
  out: Float64Array = new Float64Array(x.length),
): Float64Array {
  const n = checkLength(model, x);
  const k = model.factors.length;
  const fy = symmetricTimes(model.factorCovariance, factorExposures(model, x), k);
  for (let i = 0; i < n; i++) {
    let s = model.specificVariances[i] * x[i];
    for (let a = 0; a < k; a++) s += model.loadings[i * k + a] * fy[a];
    out[i] = s;
  }
  return out;
}

/** xᵀΣx = yᵀFy + Σ D_i·x_i² with y = Bᵀx, in O(n·k + k²). */
export function factorVariance(model: FactorCovariance, x: ArrayLike<number>): number {
  const k = model.factors.length;
  const y = factorExposures(model, x);
  let s = dot(y, symmetricTimes(model.factorCovariance, y, k));
  for (let i = 0; i < x.length; i++) s += model.specificVariances[i] * x[i] * x[i];
  return s;
}

/** Σ_ii = B_i·F·B_iᵀ + D_i for every asset, O(n·k²). */
export function factorCovarianceDiagonal(model: FactorCovariance): Float64Array {
  const n = model.assets.length;
  const k = model.factors.length;
  return Float64Array.from({ length: n }, (_, i) => {
    const bi = model.loadings.subarray(i * k, (i + 1) * k);
    return dot(bi, symmetricTimes(model.factorCovariance, bi, k)) + model.specificVariances[i];
  });
}

/** Column i of Σ (Σ·e_i), O(n·k): what an O(n) update of Σ·x needs when x_i changes. */
export function factorCovarianceColumn(
  model: FactorCovariance,
  i: number,
  out: Float64Array = new Float64Array(model.assets.length),
): Float64Array {
  const n = model.assets.length;
  if (!(i >= 0 && i < n)) throw new DataError(`asset index ${i} is outside the ${n} assets of the factor model`);
  const unit = new Float64Array(n);
  unit[i] = 1;
  return factorCovarianceTimes(model, unit, out);
}

/** The n×n matrix B·F·Bᵀ + D, O(n²·k): for small universes and for checking the factor path against the dense one. */
export function denseCovarianceOf<U extends CovarianceUnit>(model: FactorCovariance<U>): CovarianceMatrix<U> {
  const n = model.assets.length;
  const { u, rank } = lowRankForm(model);
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = i === j ? model.specificVariances[i] : 0;
      for (let c = 0; c < rank; c++) s += u[i * rank + c] * u[j * rank + c];
      values[i * n + j] = s;
      values[j * n + i] = s;
    }
  }
  return { unit: model.unit, assets: model.assets, values };
}

/** The factor form restricted to the given assets, in that order (the factors are shared): subCovariance's twin. */
export function subFactorCovariance<U extends CovarianceUnit>(model: FactorCovariance<U>, indices: readonly number[]): FactorCovariance<U> {
  const k = model.factors.length;
  const n = model.assets.length;
  indices.forEach((i) => {
    if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new DataError(`asset index ${i} is outside the ${n} assets of the factor model`);
  });
  const loadings = new Float64Array(indices.length * k);
  indices.forEach((i, row) => loadings.set(model.loadings.subarray(i * k, (i + 1) * k), row * k));
  return {
    ...model,
    assets: indices.map((i) => model.assets[i]),
    loadings,
    specificVariances: Float64Array.from(indices, (i) => model.specificVariances[i]),
  };
}

export function annualizeFactorCovariance(model: FactorCovariance<'daily'>, periods: PeriodsPerYear): FactorCovariance<'annualized'> {
  return {
    ...model,
    unit: 'annualized',
    factorCovariance: model.factorCovariance.map((v) => v * periods),
    specificVariances: model.specificVariances.map((v) => v * periods),
  };
}

function symmetricTimes(f: Float64Array, y: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += f[a * k + c] * y[c];
    out[a] = s;
  }
  return out;
}

function checkLength(model: FactorCovariance, x: ArrayLike<number>): number {
  const n = model.assets.length;
  if (x.length !== n) throw new DataError(`vector has ${x.length} entries for the ${n} assets of the factor model`);
  return n;
}

export interface StatisticalFactorOptions {
  /** Number of principal components k, 1 ≤ k ≤ min(assets, observations − 1). */
  readonly factors: number;
  /** Lanczos steps at most (each one product with S). Default 300, capped at min(assets, observations − 1). */
  readonly maxIterations?: number;
  /** Stop when every leading eigenpair has a residual ‖S·v − λ·v‖ below this fraction of the largest λ. Default 1e-10. */
  readonly tolerance?: number;
  /** Specific variances are raised to this fraction of the asset's variance at least. Default 1e-8. */
  readonly relativeFloor?: number;
}

export interface FactorModelEstimate {
  readonly covariance: FactorCovariance<'daily'>;
  readonly observations: number;
  /** Share of the total sample variance (trace) that the k factors carry. */
  readonly explainedVariance: Fraction;
  /** Lanczos steps taken. */
  readonly iterations: number;
  readonly converged: boolean;
  /** Assets whose specific variance was raised to the floor. */
  readonly specificVariancesFloored: number;
}

const LANCZOS_SEED = 0x5eed;
/** Convergence is checked every this many steps (each check is an eigendecomposition of the tridiagonal matrix). */
const CHECK_EVERY = 5;

/**
 * Statistical factor model: the k leading principal components of the sample covariance S = XᵀX/(T−1)
 * of centred returns (F = diag(λ), B = eigenvectors, each signed so its loadings sum to ≥ 0) plus specific
 * variances D_i = S_ii − Σ_j B_ij²·λ_j. The components come from Lanczos iteration with full
 * reorthogonalisation on products S·v = Xᵀ(X·v)/(T−1), O(n·T) each, so S itself (n×n) is never formed;
 * Krylov subspaces find the leading eigenpairs in far fewer products than subspace iteration when, as in
 * returns, the eigenvalues past the first few factors crowd together.
 */
export function statisticalFactorModel(returns: ReturnMatrix, opts: StatisticalFactorOptions): FactorModelEstimate {
  const t = requireComplete(returns, 2);
  const n = returns.assets.length;
  const k = opts.factors;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(n, t - 1))
    throw new DataError(`a statistical factor model of ${n} assets and ${t} returns takes 1 to ${Math.min(n, t - 1)} factors, not ${k}`);
  const columns = returns.columns.map(centred);
  const variances = Float64Array.from(columns, (c) => dot(c, c) / (t - 1));
  variances.forEach((v, i) => {
    // Relative to the raw second moment: a constant return leaves only rounding noise after centring.
    const raw = returns.columns[i];
    if (!(v > 1e-20 * (dot(raw, raw) / t)))
      throw new DataError(`asset ${returns.assets[i]} has zero variance; a factor model needs every asset to move`);
  });
  const pca = leadingComponents(columns, t, k, opts);
  const floor = opts.relativeFloor ?? 1e-8;
  let floored = 0;
  const specificVariances = variances.map((v, i) => {
    let explained = 0;
    for (let j = 0; j < k; j++) explained += pca.vectors[i * k + j] ** 2 * pca.values[j];
    if (v - explained >= floor * v) return v - explained;
    floored++;
    return floor * v;
  });
  const factorCovariance = new Float64Array(k * k);
  pca.values.forEach((v, j) => (factorCovariance[j * k + j] = v));
  let total = 0;
  variances.forEach((v) => (total += v));
  return {
    covariance: {
      unit: 'daily',
      assets: returns.assets,
      factors: Array.from({ length: k }, (_, j) => `PC${j + 1}`),
      loadings: pca.vectors,
      factorCovariance,
      specificVariances,
    },
    observations: t,
    explainedVariance: fraction(pca.values.reduce((s, v) => s + v, 0) / total),
    iterations: pca.iterations,
    converged: pca.converged,
    specificVariancesFloored: floored,
  };
}

interface Components {
  /** Descending eigenvalues of S. */
  readonly values: Float64Array;
  /** Row-major n×k: column j is the unit eigenvector of values[j]. */
  readonly vectors: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
}

/** The k leading eigenpairs of S = XᵀX/(T−1) by Lanczos with full reorthogonalisation, from a seeded start. */
function leadingComponents(columns: readonly Float64Array[], t: number, k: number, opts: StatisticalFactorOptions): Components {
  const n = columns.length;
  const rows = transposed(columns, t);
  const steps = Math.min(opts.maxIterations ?? 300, n, t - 1);
  const tolerance = opts.tolerance ?? 1e-10;
  const rng = seededRng(LANCZOS_SEED);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let next = unitVector(Float64Array.from({ length: n }, rng.normal), basis, rng);
  for (let step = 1; ; step++) {
    basis.push(next);
    const w = covarianceTimesVector(rows, columns, next, t);
    alpha.push(dot(next, w));
    // Full reorthogonalisation (twice) against every basis vector subsumes the three-term recurrence.
    for (let pass = 0; pass < 2; pass++) {
      for (const v of basis) {
        const c = dot(v, w);
        for (let i = 0; i < n; i++) w[i] -= c * v[i];
      }
    }
    const norm = Math.sqrt(dot(w, w));
    const last = step >= steps;
    if (step >= k && (last || step % CHECK_EVERY === 0)) {
      const ritz = ritzPairs(alpha, beta, step);
      const settled = ritz.values.slice(0, k).every((_, j) => norm * Math.abs(ritz.lastRow[j]) <= tolerance * ritz.values[0]);
      if (settled || last) {
        return { ...ritzComponents(basis, ritz, k), iterations: step, converged: settled };
      }
    }
    // Nothing left (β ≈ 0): the basis spans an invariant subspace; restart from a fresh orthogonal direction.
    const invariant = !(norm > 1e-12 * Math.max(...alpha));
    beta.push(invariant ? 0 : norm);
    next = invariant ? unitVector(Float64Array.from({ length: n }, rng.normal), basis, rng) : w.map((v) => v / norm);
  }
}

interface RitzPairs {
  /** Descending Ritz values. */
  readonly values: Float64Array;
  /** Row-major m×m: row j holds the tridiagonal eigenvector of values[j]. */
  readonly vectors: Float64Array;
  /** The last component of each eigenvector: with β, the residual norm of its Ritz pair. */
  readonly lastRow: Float64Array;
  readonly size: number;
}

/** Eigenpairs of the m×m tridiagonal Lanczos matrix (diagonal α, off-diagonal β), descending. */
function ritzPairs(alpha: readonly number[], beta: readonly number[], m: number): RitzPairs {
  const tridiagonal = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    tridiagonal[i * m + i] = alpha[i];
    if (i + 1 < m) tridiagonal[i * m + i + 1] = tridiagonal[(i + 1) * m + i] = beta[i];
  }
  const { values, vectors } = symmetricEigen(tridiagonal, m);
  const order = Array.from({ length: m }, (_, j) => m - 1 - j);
  const sorted = new Float64Array(m * m);
  order.forEach((q, j) => sorted.set(vectors.subarray(q * m, (q + 1) * m), j * m));
  return {
    values: Float64Array.from(order, (q) => values[q]),
    vectors: sorted,
    lastRow: Float64Array.from(order, (q) => vectors[q * m + m - 1]),
    size: m,
  };
}

/** Ritz vectors V·s for the k largest Ritz values as n×k loadings, each signed so its entries sum to ≥ 0. */
function ritzComponents(basis: readonly Float64Array[], ritz: RitzPairs, k: number): { values: Float64Array; vectors: Float64Array } {
  const n = basis[0].length;
  const m = ritz.size;
  const vectors = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const s = ritz.vectors.subarray(j * m, (j + 1) * m);
    const column = new Float64Array(n);
    s.forEach((weight, q) => {
      const v = basis[q];
      for (let i = 0; i < n; i++) column[i] += weight * v[i];
    });
    const sign = column.reduce((acc, v) => acc + v, 0) < 0 ? -1 : 1;
    column.forEach((v, i) => (vectors[i * k + j] = sign * v));
  }
  return { values: Float64Array.from({ length: k }, (_, j) => Math.max(ritz.values[j], 0)), vectors };
}

/** S·v = Xᵀ(X·v)/(T−1), as two passes over the returns. */
function covarianceTimesVector(rows: readonly Float64Array[], columns: readonly Float64Array[], v: Float64Array, t: number): Float64Array {
  const scores = Float64Array.from(rows, (row) => dot(row, v));
  return Float64Array.from(columns, (column) => dot(column, scores) / (t - 1));
}

/** v orthogonalised (twice) against the basis and normalised; a fresh random direction if nothing is left. */
function unitVector(v: Float64Array, basis: readonly Float64Array[], rng: ReturnType<typeof seededRng>): Float64Array {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = Math.sqrt(dot(v, v));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        const c = dot(q, v);
        for (let i = 0; i < v.length; i++) v[i] -= c * q[i];
      }
    }
    const norm = Math.sqrt(dot(v, v));
    if (norm > 1e-10 * before) return v.map((x) => x / norm);
    v = Float64Array.from({ length: v.length }, rng.normal);
  }
  throw new DataError('returns span fewer directions than the factor model needs');
}

function transposed(columns: readonly Float64Array[], t: number): Float64Array[] {
  const n = columns.length;
  return Array.from({ length: t }, (_, s) => Float64Array.from({ length: n }, (_, i) => columns[i][s]));
}
