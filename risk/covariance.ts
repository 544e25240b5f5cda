/**
 * Covariance estimators over a ReturnMatrix. Every estimate is per observation period ("daily" for daily
 * returns) until `annualizeCovariance` scales it by an explicit PeriodsPerYear, and every estimate leaves
 * here positive definite: a matrix that fails a Cholesky test at the eigenvalue floor is repaired by
 * raising its small eigenvalues to the floor, and the repair is reported in `repaired`.
 */
import { DataError } from './timeseries';
import type { PeriodsPerYear } from './units';
import type { ReturnMatrix } from './returns';
import { cholesky, gram, symmetricEigen, trace } from './linalg';

export type CovarianceUnit = 'daily' | 'annualized';

export interface CovarianceMatrix<U extends CovarianceUnit = CovarianceUnit> {
  /** 'daily' = per observation period of the returns; 'annualized' = scaled by periods per year. */
  readonly unit: U;
  readonly assets: readonly string[];
  /** Row-major n×n, symmetric positive definite. */
  readonly values: Float64Array;
}

export interface EigenRepair {
  /** Smallest eigenvalue of the raw estimate (may be ≤ 0). */
  readonly minEigenBefore: number;
  /** Eigenvalues below this were raised to it. */
  readonly floor: number;
  readonly eigenvaluesRaised: number;
}

export type CovarianceEstimator = 'sample' | 'pairwise' | 'ewma' | 'ledoit-wolf' | 'ledoit-wolf-cc';

export interface CovarianceEstimate<U extends CovarianceUnit = 'daily'> {
  readonly covariance: CovarianceMatrix<U>;
  readonly estimator: CovarianceEstimator;
  readonly observations: number;
  /** Shrinkage intensity δ ∈ [0, 1] toward the target; null for estimators that do not shrink. */
  readonly shrinkage: number | null;
  /** Set when the raw estimate was not positive definite at the floor and was repaired. */
  readonly repaired: EigenRepair | null;
}

export interface RepairOptions {
  /** Eigenvalue floor as a fraction of the average variance (trace / n). Default 1e-8. */
  readonly relativeFloor?: number;
}

export type CovarianceSpec =
  | ({ readonly estimator: 'sample' } & RepairOptions)
  | ({ readonly estimator: 'pairwise'; readonly minPeriods?: number } & RepairOptions)
  | ({ readonly estimator: 'ewma'; readonly lambda?: number; readonly halfLife?: number } & RepairOptions)
  | ({ readonly estimator: 'ledoit-wolf' } & RepairOptions)
  | ({ readonly estimator: 'ledoit-wolf-cc' } & RepairOptions);

export function estimateCovariance(returns: ReturnMatrix, spec: CovarianceSpec): CovarianceEstimate<'daily'> {
  switch (spec.estimator) {
    case 'sample':
      return sampleCovariance(returns, spec);
    case 'pairwise':
      return pairwiseSampleCovariance(returns, spec);
    case 'ewma':
      return ewmaCovariance(returns, spec);
    case 'ledoit-wolf':
      return ledoitWolf(returns, spec);
    case 'ledoit-wolf-cc':
      return ledoitWolfConstantCorrelation(returns, spec);
  }
}

/** Unbiased sample covariance: centred returns, divided by T − 1. Returns must have no NaN. */
export function sampleCovariance(returns: ReturnMatrix, opts: RepairOptions = {}): CovarianceEstimate<'daily'> {
  const t = requireComplete(returns, 2);
  const raw = gram(returns.columns.map(centred));
  scale(raw, 1 / (t - 1));
  return finish(returns, raw, 'sample', null, opts);
}

/**
 * Pairwise-complete sample covariance (the pandas `DataFrame.cov()` convention): each entry uses the
 * periods where both assets have a return, centred on the means of that overlap, divided by overlap − 1.
 * Lets late listings contribute their full history, at the price of a matrix that may need repair.
 */
export function pairwiseSampleCovariance(
  returns: ReturnMatrix,
  opts: RepairOptions & { minPeriods?: number } = {},
): CovarianceEstimate<'daily'> {
  const n = returns.assets.length;
  const minPeriods = Math.max(opts.minPeriods ?? 2, 2);
  const raw = new Float64Array(n * n);
  let minOverlap = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const { value, overlap } = pairwiseCov(returns.columns[i], returns.columns[j]);
      if (overlap < minPeriods) {
        throw new DataError(
          `assets ${returns.assets[i]} and ${returns.assets[j]} share only ${overlap} returns; need at least ${minPeriods}`,
        );
      }
      minOverlap = Math.min(minOverlap, overlap);
      raw[i * n + j] = value;
      raw[j * n + i] = value;
    }
  }
  return finish(returns, raw, 'pairwise', null, opts, minOverlap);
}

/**
 * Exponentially weighted covariance, RiskMetrics convention: **zero mean** (returns are not centred) and
 * weights w_t ∝ λ^(T−1−t) normalized to sum to 1 over the window, so the newest return has the largest
 * weight and no seed matrix is needed. Give `lambda` (RiskMetrics daily: 0.94) or `halfLife` in periods
 * (λ = 0.5^(1/halfLife)).
 */
export function ewmaCovariance(
  returns: ReturnMatrix,
  opts: RepairOptions & { lambda?: number; halfLife?: number } = {},
): CovarianceEstimate<'daily'> {
  const t = requireComplete(returns, 1);
  const lambda = ewmaLambda(opts);
  const sqrtWeights = new Float64Array(t);
  // Normalizing constant Σ_{k<T} λ^k = (1 − λ^T)/(1 − λ).
  const total = (1 - lambda ** t) / (1 - lambda);
  for (let s = 0; s < t; s++) sqrtWeights[s] = Math.sqrt(lambda ** (t - 1 - s) / total);
  const weighted = returns.columns.map((c) => {
    const out = new Float64Array(t);
    for (let s = 0; s < t; s++) out[s] = c[s] * sqrtWeights[s];
    return out;
  });
  return finish(returns, gram(weighted), 'ewma', null, opts);
}

export function ewmaLambda(opts: { lambda?: number; halfLife?: number }): number {
  if (opts.lambda !== undefined && opts.halfLife !== undefined) throw new DataError('give either an EWMA lambda or a half-life, not both');
  if (opts.halfLife !== undefined) {
    if (!(opts.halfLife > 0)) throw new DataError(`EWMA half-life must be positive, got ${opts.halfLife}`);
    return 0.5 ** (1 / opts.halfLife);
  }
  const lambda = opts.lambda ?? 0.94;
  if (!(lambda > 0 && lambda < 1)) throw new DataError(`EWMA lambda must be in (0, 1), got ${lambda}`);
  return lambda;
}

/**
 * Ledoit–Wolf (2004, "A well-conditioned estimator for large-dimensional covariance matrices") shrinkage
 * toward a scaled identity μ·I, μ = trace(S)/n, in the scikit-learn `LedoitWolf` convention: returns are
 * centred and S divides by T (not T − 1). Σ̂ = (1 − δ)·S + δ·μ·I with δ = min(β̄², δ̄²)/δ̄², where
 * δ̄² = ‖S − μI‖²_F / n and β̄² = (1/T²)·Σ_t ‖x_t x_tᵀ − S‖²_F / n.
 */
export function ledoitWolf(returns: ReturnMatrix, opts: RepairOptions = {}): CovarianceEstimate<'daily'> {
  const t = requireComplete(returns, 2);
  const n = returns.assets.length;
  const x = returns.columns.map(centred);
  const s = gram(x);
  scale(s, 1 / t);
  const mu = trace(s, n) / n;
  let sumSq = 0;
  for (let k = 0; k < s.length; k++) sumSq += s[k] * s[k];
  // Σ_t ‖x_t‖⁴ = Σ_t (Σ_i x_ti²)²: the sum of all entries of (X∘X)ᵀ(X∘X), computed in O(nT).
  let fourth = 0;
  for (let r = 0; r < t; r++) {
    let rowSq = 0;
    for (let i = 0; i < n; i++) rowSq += x[i][r] * x[i][r];
    fourth += rowSq * rowSq;
  }
  const distance = (sumSq - 2 * mu * trace(s, n) + n * mu * mu) / n;
  const beta = Math.min((fourth / t - sumSq) / (n * t), distance);
  const shrinkage = beta <= 0 || distance === 0 ? 0 : beta / distance;
  const shrunk = new Float64Array(n * n);
  for (let k = 0; k < s.length; k++) shrunk[k] = (1 - shrinkage) * s[k];
  for (let i = 0; i < n; i++) shrunk[i * n + i] += shrinkage * mu;
  return finish(returns, shrunk, 'ledoit-wolf', shrinkage, opts);
}

/**
 * Ledoit–Wolf (2004, "Honey, I shrunk the sample covariance matrix") shrinkage toward the constant-
 * correlation target F (f_ii = s_ii, f_ij = r̄·√(s_ii s_jj), r̄ the average sample correlation). As in the
 * paper (and its reference code covCor.m), returns are centred and S divides by T. δ = clamp(κ/T, 0, 1)
 * with κ = (π̂ − ρ̂)/γ̂.
 */
export function ledoitWolfConstantCorrelation(returns: ReturnMatrix, opts: RepairOptions = {}): CovarianceEstimate<'daily'> {
  const t = requireComplete(returns, 2);
  const n = returns.assets.length;
  // One asset has no correlation to shrink: the identity-target estimator returns S/T with δ = 0.
  if (n < 2) return ledoitWolf(returns, opts);
  const y = returns.columns.map(centred);
  const s = gram(y);
  scale(s, 1 / t);
  const sd = Float64Array.from({ length: n }, (_, i) => Math.sqrt(s[i * n + i]));
  let corrSum = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) corrSum += s[i * n + j] / (sd[i] * sd[j]);
  const rBar = (2 * corrSum) / (n * (n - 1));

  // π̂, ρ̂ and γ̂ are sums over all (i, j); each collapses to O(nT) or O(n²) work, so the estimator costs
  // one Gram matrix like the sample covariance (the paper's per-pair θ terms would cost two more).
  const z = new Float64Array(t); // z_t = Σ_j sd_j·y_jt
  const rowSquares = new Float64Array(t); // Σ_i y_it²
  y.forEach((c, i) => {
    for (let r = 0; r < t; r++) {
      z[r] += sd[i] * c[r];
      rowSquares[r] += c[r] * c[r];
    }
  });
  let fourthAll = 0; // Σ_t (Σ_i y_it²)² = Σ_ij Σ_t y_it² y_jt²
  for (let r = 0; r < t; r++) fourthAll += rowSquares[r] * rowSquares[r];
  let piDiagonal = 0;
  let cubicCross = 0; // Σ_t Σ_i (y_it³/sd_i)·Σ_{j≠i} sd_j y_jt
  y.forEach((c, i) => {
    let fourth = 0;
    for (let r = 0; r < t; r++) {
      const v2 = c[r] * c[r];
      fourth += v2 * v2;
      cubicCross += ((v2 * c[r]) / sd[i]) * (z[r] - sd[i] * c[r]);
    }
    piDiagonal += fourth / t - s[i * n + i] * s[i * n + i];
  });
  let sumSq = 0;
  let scaledOffDiagonal = 0; // Σ_{i≠j} sd_i sd_j s_ij
  let gamma = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const sij = s[i * n + j];
      sumSq += sij * sij;
      if (i === j) continue;
      scaledOffDiagonal += sd[i] * sd[j] * sij;
      gamma += (rBar * sd[i] * sd[j] - sij) ** 2;
    }
  }
  const pi = fourthAll / t - sumSq;
  // Σ_{i≠j} [√(s_jj/s_ii)·θ_ii,ij + √(s_ii/s_jj)·θ_jj,ij]: the two halves are equal by symmetry.
  const rhoOff = 2 * (cubicCross / t - scaledOffDiagonal);
  const rho = piDiagonal + (rBar / 2) * rhoOff;
  const kappa = gamma > 0 ? (pi - rho) / gamma : 0;
  const shrinkage = gamma > 0 ? Math.max(0, Math.min(1, kappa / t)) : 0;
  const shrunk = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const target = i === j ? s[i * n + i] : rBar * sd[i] * sd[j];
      shrunk[i * n + j] = shrinkage * target + (1 - shrinkage) * s[i * n + j];
    }
  }
  return finish(returns, shrunk, 'ledoit-wolf-cc', shrinkage, opts);
}

export function annualizeCovariance(cov: CovarianceMatrix<'daily'>, periods: PeriodsPerYear): CovarianceMatrix<'annualized'> {
  return { unit: 'annualized', assets: cov.assets, values: cov.values.map((v) => v * periods) };
}

export function annualizeEstimate(est: CovarianceEstimate<'daily'>, periods: PeriodsPerYear): CovarianceEstimate<'annualized'> {
  return { ...est, covariance: annualizeCovariance(est.covariance, periods) };
}

/**
 * Returns a positive definite copy of a symmetric matrix. Cheap test first: Cholesky with every pivot
 * (each asset's variance not explained by the assets before it) above the floor; this is necessary for
 * λ_min ≥ floor and catches collinear assets and T ≤ n. Only if it fails does the O(n³) eigendecomposition
 * run, raising eigenvalues below the floor to it.
 */
export function ensurePositiveDefinite(
  values: Float64Array,
  n: number,
  opts: RepairOptions = {},
): { values: Float64Array; repaired: EigenRepair | null } {
  const averageVariance = trace(values, n) / n;
  if (!(averageVariance > 0) || !Number.isFinite(averageVariance)) {
    throw new DataError('covariance has no positive variance (constant or missing returns)');
  }
  const floor = (opts.relativeFloor ?? 1e-8) * averageVariance;
  if (cholesky(values, n, floor)) return { values, repaired: null };
  const { values: eigen, vectors } = symmetricEigen(values, n);
  // A + Σ_{λ_k < floor} (floor − λ_k)·v_k v_kᵀ: only the raised directions change, O(n² per raised eigenvalue).
  const repaired = Float64Array.from(values);
  let raised = 0;
  for (let k = 0; k < n && eigen[k] < floor; k++, raised++) {
    const lift = floor - eigen[k];
    const vk = vectors.subarray(k * n, (k + 1) * n);
    for (let i = 0; i < n; i++) {
      const vi = vk[i] * lift;
      for (let j = i; j < n; j++) repaired[i * n + j] += vi * vk[j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) repaired[i * n + j] = repaired[j * n + i];
  return { values: repaired, repaired: { minEigenBefore: eigen[0], floor, eigenvaluesRaised: raised } };
}

export function correlationFromCovariance(values: Float64Array, n: number): Float64Array {
  const sd = Float64Array.from({ length: n }, (_, i) => Math.sqrt(values[i * n + i]));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = i === j ? 1 : values[i * n + j] / (sd[i] * sd[j]);
  return out;
}

/** Sub-matrix for the given indices, in that order. */
export function subCovariance<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, indices: readonly number[]): CovarianceMatrix<U> {
  const n = cov.assets.length;
  const m = indices.length;
  const values = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) values[a * m + b] = cov.values[indices[a] * n + indices[b]];
  return { unit: cov.unit, assets: indices.map((i) => cov.assets[i]), values };
}

export function covarianceFromRows<U extends CovarianceUnit>(
  unit: U,
  assets: readonly string[],
  rows: readonly (readonly number[])[],
): CovarianceMatrix<U> {
  const n = assets.length;
  if (rows.length !== n || rows.some((r) => r.length !== n)) throw new DataError(`covariance must be ${n}×${n} for ${n} assets`);
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) values[i * n + j] = rows[i][j];
  return { unit, assets: [...assets], values };
}

export function covarianceToRows(cov: CovarianceMatrix): number[][] {
  const n = cov.assets.length;
  return Array.from({ length: n }, (_, i) => Array.from(cov.values.subarray(i * n, (i + 1) * n)));
}

function finish(
  returns: ReturnMatrix,
  raw: Float64Array,
  estimator: CovarianceEstimator,
  shrinkage: number | null,
  opts: RepairOptions,
  observations = returns.dates.length,
): CovarianceEstimate<'daily'> {
  const { values, repaired } = ensurePositiveDefinite(raw, returns.assets.length, opts);
  return { covariance: { unit: 'daily', assets: returns.assets, values }, estimator, observations, shrinkage, repaired };
}

/** The number of observations, after checking there are enough and that no asset misses a return. */
export function requireComplete(returns: ReturnMatrix, minObservations: number): number {
  const t = returns.dates.length;
  if (returns.assets.length === 0) throw new DataError('no assets to estimate a covariance for');
  if (t < minObservations) throw new DataError(`need at least ${minObservations} returns to estimate a covariance, got ${t}`);
  returns.columns.forEach((c, j) => {
    for (let s = 0; s < t; s++) {
      if (!Number.isFinite(c[s]))
        throw new DataError(`asset ${returns.assets[j]} has a missing return on ${returns.dates[s]}; align returns first`);
    }
  });
  return t;
}

/** The column minus its mean. */
export function centred(column: Float64Array): Float64Array {
  let mean = 0;
  for (let s = 0; s < column.length; s++) mean += column[s];
  mean /= column.length;
  return column.map((v) => v - mean);
}

function scale(a: Float64Array, factor: number): void {
  for (let k = 0; k < a.length; k++) a[k] *= factor;
}

/**
 * Pairwise-complete Pearson correlation (pandas `DataFrame.corr()`): each ρ_ij uses only the overlap of
 * i and j for means and standard deviations, so it is not the correlation of the pairwise covariance.
 * Meant for clustering distances (HRP); not guaranteed positive semi-definite.
 */
export function pairwiseCorrelation(returns: ReturnMatrix): Float64Array {
  const n = returns.assets.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    out[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const rho = pairwiseCorr(returns.columns[i], returns.columns[j]);
      out[i * n + j] = rho;
      out[j * n + i] = rho;
    }
  }
  return out;
}

function pairwiseCorr(a: Float64Array, b: Float64Array): number {
  const m = pairwiseMoments(a, b);
  return m.count < 2 ? Number.NaN : m.ab / Math.sqrt(m.aa * m.bb);
}

function pairwiseCov(a: Float64Array, b: Float64Array): { value: number; overlap: number } {
  const m = pairwiseMoments(a, b);
  return { value: m.count < 2 ? Number.NaN : m.ab / (m.count - 1), overlap: m.count };
}

/** Centred cross and own sums of squares over the dates where both series are observed. */
function pairwiseMoments(a: Float64Array, b: Float64Array): { count: number; ab: number; aa: number; bb: number } {
  let count = 0;
  let sumA = 0;
  let sumB = 0;
  for (let s = 0; s < a.length; s++) {
    if (Number.isFinite(a[s]) && Number.isFinite(b[s])) {
      count++;
      sumA += a[s];
      sumB += b[s];
    }
  }
  const meanA = sumA / count;
  const meanB = sumB / count;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let s = 0; s < a.length; s++) {
    if (Number.isFinite(a[s]) && Number.isFinite(b[s])) {
      const da = a[s] - meanA;
      const db = b[s] - meanB;
      ab += da * db;
      aa += da * da;
      bb += db * db;
    }
  }
  return { count, ab, aa, bb };
}
