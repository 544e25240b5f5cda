import { type CovarianceMatrix, covarianceFromRows } from '../../../risk/covariance';
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
