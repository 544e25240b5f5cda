import { type CovarianceMatrix, covarianceFromRows } from '../../../../risk/covariance';

/** Σ = diag(σ)·R·diag(σ) from volatilities and a correlation matrix. */
export function covFromVolCorr(vols: readonly number[], corr: readonly (readonly number[])[]): CovarianceMatrix<'annualized'> {
  const rows = vols.map((vi, i) => vols.map((vj, j) => vi * vj * corr[i][j]));
  return covarianceFromRows('annualized', vols.map((_, i) => `A${i + 1}`), rows);
}

export function constantCorrelation(n: number, rho: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : rho)));
}

/** Deterministic PRNG (mulberry32) for synthetic data in tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
