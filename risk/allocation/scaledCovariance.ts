/**
 * The covariance of the budgeted assets rescaled to unit diagonal, C = S⁻¹ΣS⁻¹ with S = diag(σ) (their
 * correlation matrix), kept in the form it came in. The risk-budgeting solvers work on C: the problem is
 * scale-free there (the solution is σ∘w up to a factor) and the Newton systems are better conditioned.
 * A dense C is applied as S⁻¹·(Σ·(S⁻¹x)) on Σ itself rather than copied: at 5 000 assets a copy is
 * 200 MB, and first touching that much fresh memory costs more than the whole solve.
 */
import type { CovarianceMatrix } from '../covariance';
import { type CovarianceModel, type FactorCovariance, isFactorCovariance, lowRankForm, validateFactorCovariance } from '../factorModel';
import { diagonalPlusLowRankTimes, matVec } from '../linalg';
import { DataError } from '../timeseries';

export type ScaledCovariance = DenseScaledCovariance | FactorScaledCovariance;

/** C = diag(scale)·Σ·diag(scale). */
export interface DenseScaledCovariance {
  readonly form: 'dense';
  readonly size: number;
  /** Row-major size×size Σ of the budgeted assets (the caller's own array when every asset is budgeted). */
  readonly values: Float64Array;
  /** 1/σ per asset. */
  readonly scale: Float64Array;
}

/** C = U·Uᵀ + diag(specific), never formed. */
export interface FactorScaledCovariance {
  readonly form: 'factor';
  readonly size: number;
  readonly rank: number;
  /** Row-major size×rank. */
  readonly u: Float64Array;
  /** Specific variance over total variance, per asset, in (0, 1]. */
  readonly specific: Float64Array;
}

/** C for the assets `active` (indices into the model), with their volatilities σ. */
export function scaleCovariance(model: CovarianceModel, active: readonly number[]): { scaled: ScaledCovariance; vols: Float64Array } {
  return isFactorCovariance(model) ? scaleFactor(model, active) : scaleDense(model, active);
}

/** out = C·x: O(m²) dense, O(m·rank) factor. */
export function scaledTimes(c: ScaledCovariance, x: Float64Array, out: Float64Array = new Float64Array(c.size)): Float64Array {
  switch (c.form) {
    case 'dense': {
      const { size, values, scale } = c;
      matVec(
        values,
        x.map((v, i) => v * scale[i]),
        size,
        out,
      );
      for (let i = 0; i < size; i++) out[i] *= scale[i];
      return out;
    }
    case 'factor':
      return diagonalPlusLowRankTimes(c.specific, c.u, c.rank, x, out);
  }
}

function scaleDense(cov: CovarianceMatrix, active: readonly number[]): { scaled: DenseScaledCovariance; vols: Float64Array } {
  const n = cov.assets.length;
  const m = active.length;
  const vols = Float64Array.from(active, (i) => Math.sqrt(cov.values[i * n + i]));
  requirePositive(vols, active, cov.assets);
  let values = cov.values;
  if (m < n) {
    values = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) values[a * m + c] = cov.values[active[a] * n + active[c]];
  }
  return { scaled: { form: 'dense', size: m, values, scale: vols.map((v) => 1 / v) }, vols };
}

function scaleFactor(model: FactorCovariance, active: readonly number[]): { scaled: FactorScaledCovariance; vols: Float64Array } {
  validateFactorCovariance(model);
  const { u: full, rank } = lowRankForm(model);
  const m = active.length;
  const u = new Float64Array(m * rank);
  const specific = new Float64Array(m);
  const vols = new Float64Array(m);
  active.forEach((i, a) => {
    let common = 0;
    for (let c = 0; c < rank; c++) common += full[i * rank + c] ** 2;
    const variance = common + model.specificVariances[i];
    vols[a] = Math.sqrt(variance);
    specific[a] = model.specificVariances[i] / variance;
    for (let c = 0; c < rank; c++) u[a * rank + c] = full[i * rank + c] / vols[a];
  });
  requirePositive(vols, active, model.assets);
  return { scaled: { form: 'factor', size: m, rank, u, specific }, vols };
}

function requirePositive(vols: Float64Array, active: readonly number[], assets: readonly string[]): void {
  vols.forEach((v, k) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new DataError(`asset ${assets[active[k]]} has zero variance; it cannot carry a risk budget`);
  });
}
