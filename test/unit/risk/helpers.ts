import { type CovarianceMatrix, covarianceFromRows } from '../../../risk/covariance';
import { type FactorCovariance, factorCovarianceFromRows } from '../../../risk/factorModel';
import { seededRng } from '../../../risk/random';

/** Σ = diag(σ)·R·diag(σ) from volatilities and a correlation matrix. */
export function covFromVolCorr(vols: readonly number[], corr: readonly (readonly number[])[]): CovarianceMatrix<'annualized'> {
  const rows = vols.map((vi, i) => vols.map((vj, j) => vi * vj * corr[i][j]));
  return covarianceFromRows(
    'annualized',
    vols.map((_, i) => `A${i + 1}`),
    rows,
  );
}

export function constantCorrelation(n: number, rho: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : rho)));
}

/** Deterministic uniform generator for synthetic data in tests (the project's seeded PRNG). */
export function seededRandom(seed: number): () => number {
  return seededRng(seed).uniform;
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * A seeded factor model: loadings with a market factor (0.5–1.5) and standard normal ones, F = AAᵀ
 * (not diagonal; rank `rank` ≤ k) with A ~ 0.1·N(0, 1), specific vols 10–40 %.
 */
export function randomFactorModel(n: number, k: number, seed: number, rank = k): FactorCovariance<'annualized'> {
  const rng = seededRng(seed);
  const a = Array.from({ length: k }, () => Array.from({ length: rank }, () => 0.1 * rng.normal()));
  const f = a.map((ai) => a.map((aj) => ai.reduce((s, v, c) => s + v * aj[c], 0)));
  return factorCovarianceFromRows(
    'annualized',
    Array.from({ length: n }, (_, i) => `A${i}`),
    Array.from({ length: k }, (_, j) => `F${j}`),
    Array.from({ length: n }, () => Array.from({ length: k }, (_, j) => (j === 0 ? 0.5 + rng.uniform() : rng.normal()))),
    f,
    Array.from({ length: n }, () => (0.1 + 0.3 * rng.uniform()) ** 2),
  );
}
