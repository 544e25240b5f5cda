/**
 * The risk model a budget carries for the gate's risk checks: the annualized covariance of the
 * budgeted assets, dense or in factor form (Σ = B·F·Bᵀ + diag(D), risk/factorModel.ts).
 *
 * The model is large (n² numbers dense, n·k + k² + n factor), the budget is not: the budget carries a
 * compact `RiskLimits` (the vol limit, the risk-budget tolerance and the model's content id), and the
 * model body is stored once in Postgres under that id (content-addressed, hence immutable: a budget
 * version always names exactly the matrix it was computed with). The Temporal history only ever sees
 * the id. A budget without `riskLimits` (versions committed before the model existed) loads as before
 * and the gate skips the risk checks for it.
 */
import { createHash } from 'node:crypto';
import { type CovarianceMatrix } from './covariance';
import { type FactorCovariance, isFactorCovariance, validateFactorCovariance } from './factorModel';
import { symmetricEigen } from './linalg';
import { DataError } from './timeseries';
import { type AnnualizedVol, type Fraction } from './units';

export const RISK_MODEL_FORMS = ['dense', 'factor'] as const;
export type RiskModelForm = (typeof RISK_MODEL_FORMS)[number];

/** The stored body: plain JSON (numbers row-major), annualized returns covariance. */
export type RiskModel =
  | {
      readonly form: 'dense';
      readonly unit: 'annualized';
      readonly assets: readonly string[];
      /** n×n row-major. */
      readonly covariance: readonly number[];
    }
  | {
      readonly form: 'factor';
      readonly unit: 'annualized';
      readonly assets: readonly string[];
      readonly factors: readonly string[];
      /** n×k row-major. */
      readonly loadings: readonly number[];
      /** k×k row-major. */
      readonly factorCovariance: readonly number[];
      readonly specificVariances: readonly number[];
    };

/** What the budget itself carries about its risk model (small: travels through workflow history). */
export interface RiskLimits {
  /** Content id of the stored RiskModel (`sha256:` + hex of its canonical JSON). */
  readonly modelId: string;
  readonly form: RiskModelForm;
  readonly assetCount: number;
  /** Hard limit on the book's ex-ante vol (fraction of capital, annualized): VOL_LIMIT. */
  readonly volLimit: AnnualizedVol;
  /** A strategy may carry its risk budget share plus this much (absolute share) before RISK_BUDGET. */
  readonly riskBudgetTolerance: Fraction;
}

/** Above this many assets the budget carries the factor form (n² numbers would bloat the store). */
export const FACTOR_FORM_ABOVE_ASSETS = 300;
/** Factors kept when the engine derives the factor form from its dense covariance. */
export const DERIVED_FACTORS = 20;

export function riskModelId(model: RiskModel): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(model)).digest('hex')}`;
}

export function denseRiskModel(cov: CovarianceMatrix<'annualized'>): RiskModel {
  return { form: 'dense', unit: 'annualized', assets: [...cov.assets], covariance: Array.from(cov.values) };
}

export function factorRiskModel(model: FactorCovariance<'annualized'>): RiskModel {
  return {
    form: 'factor',
    unit: 'annualized',
    assets: [...model.assets],
    factors: [...model.factors],
    loadings: Array.from(model.loadings),
    factorCovariance: Array.from(model.factorCovariance),
    specificVariances: Array.from(model.specificVariances),
  };
}

/**
 * The factor form of a dense covariance: its k leading eigenpairs as factors (B = eigenvectors,
 * F = diag(eigenvalues)) and the rest of each asset's variance as specific variance, so the diagonal —
 * each asset's own vol — is exact. An approximation off the diagonal, stated in the budget's form.
 */
export function factorFormOf(cov: CovarianceMatrix<'annualized'>, k: number): FactorCovariance<'annualized'> {
  const n = cov.assets.length;
  const kept = Math.min(k, n - 1);
  const { values, vectors } = symmetricEigen(cov.values, n);
  const order = Array.from(values.keys())
    .sort((a, b) => values[b] - values[a])
    .slice(0, kept);
  const loadings = new Float64Array(n * kept);
  const factorCovariance = new Float64Array(kept * kept);
  order.forEach((e, j) => {
    factorCovariance[j * kept + j] = Math.max(0, values[e]);
    for (let i = 0; i < n; i++) loadings[i * kept + j] = vectors[e * n + i]; // row e is eigenvector e
  });
  const specificVariances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let common = 0;
    for (let j = 0; j < kept; j++) common += loadings[i * kept + j] ** 2 * factorCovariance[j * kept + j];
    // Keep a floor so Σ stays positive definite even where k factors explain nearly everything.
    specificVariances[i] = Math.max(cov.values[i * n + i] - common, cov.values[i * n + i] * 1e-6);
  }
  return {
    unit: 'annualized',
    assets: [...cov.assets],
    factors: order.map((_, j) => `pc${j + 1}`),
    loadings,
    factorCovariance,
    specificVariances,
  };
}

/** The model the engine attaches: dense up to FACTOR_FORM_ABOVE_ASSETS assets, factor form above. */
export function budgetRiskModel(cov: CovarianceMatrix<'annualized'>): RiskModel {
  return cov.assets.length > FACTOR_FORM_ABOVE_ASSETS ? factorRiskModel(factorFormOf(cov, DERIVED_FACTORS)) : denseRiskModel(cov);
}

/** A stored body back into typed arrays, validated (a corrupt row is a DataError, never a silent skip). */
export function loadRiskModel(model: RiskModel): CovarianceMatrix<'annualized'> | FactorCovariance<'annualized'> {
  const n = model.assets.length;
  if (model.form === 'dense') {
    if (model.covariance.length !== n * n)
      throw new DataError(`risk model covariance must have ${n * n} entries, has ${model.covariance.length}`);
    if (!model.covariance.every(Number.isFinite)) throw new DataError('risk model covariance has a non-finite entry');
    return { unit: 'annualized', assets: [...model.assets], values: Float64Array.from(model.covariance) };
  }
  const factor: FactorCovariance<'annualized'> = {
    unit: 'annualized',
    assets: [...model.assets],
    factors: [...model.factors],
    loadings: Float64Array.from(model.loadings),
    factorCovariance: Float64Array.from(model.factorCovariance),
    specificVariances: Float64Array.from(model.specificVariances),
  };
  validateFactorCovariance(factor);
  return factor;
}

export { isFactorCovariance };
