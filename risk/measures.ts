/**
 * Portfolio risk measures on a covariance matrix. Volatilities come out in the unit of the covariance
 * (daily covariance → DailyVol, annualized → AnnualizedVol). Risk always means √(wᵀΣw): correlations
 * count, and nothing here adds up stand-alone volatilities as if assets were perfectly correlated.
 */
import type { CovarianceMatrix, CovarianceUnit } from './covariance';
import { matVec } from './linalg';
import { DataError } from './timeseries';
import { type AnnualizedVol, type DailyVol, type Fraction, type Weights, fraction } from './units';

export type VolOf<U extends CovarianceUnit> = U extends 'daily' ? DailyVol : AnnualizedVol;

export interface RiskContributions<U extends CovarianceUnit> {
  readonly portfolioVol: VolOf<U>;
  /** Euler contributions RC_i = w_i·(Σw)_i / σ; they sum to σ (same unit as σ). */
  readonly absolute: readonly VolOf<U>[];
  /** RC_i / σ = w_i·(Σw)_i / (wᵀΣw); they sum to 1. */
  readonly relative: readonly Fraction[];
  /** ∂σ/∂w_i = (Σw)_i / σ. */
  readonly marginal: readonly VolOf<U>[];
}

export function portfolioVariance<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, w: Weights): number {
  const n = checkSize(cov, w);
  const sw = matVec(cov.values, w, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += w[i] * sw[i];
  return v;
}

export function portfolioVol<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, w: Weights): VolOf<U> {
  return Math.sqrt(Math.max(portfolioVariance(cov, w), 0)) as VolOf<U>;
}

export function riskContributions<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, w: Weights): RiskContributions<U> {
  const n = checkSize(cov, w);
  const sw = matVec(cov.values, w, n);
  let variance = 0;
  for (let i = 0; i < n; i++) variance += w[i] * sw[i];
  const vol = Math.sqrt(Math.max(variance, 0));
  if (vol === 0) throw new DataError('portfolio has zero risk; risk contributions are undefined');
  return {
    portfolioVol: vol as VolOf<U>,
    absolute: Array.from(sw, (s, i) => ((w[i] * s) / vol) as VolOf<U>),
    relative: Array.from(sw, (s, i) => fraction((w[i] * s) / variance)),
    marginal: Array.from(sw, (s) => (s / vol) as VolOf<U>),
  };
}

export function assetVols<U extends CovarianceUnit>(cov: CovarianceMatrix<U>): VolOf<U>[] {
  const n = cov.assets.length;
  return Array.from({ length: n }, (_, i) => Math.sqrt(cov.values[i * n + i]) as VolOf<U>);
}

/** Σ w_i σ_i / σ_p: 1 for a single asset or perfect correlation, larger the more risk diversifies away. */
export function diversificationRatio<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, w: Weights): number {
  const vols = assetVols(cov);
  let weighted = 0;
  for (let i = 0; i < vols.length; i++) weighted += w[i] * vols[i];
  return weighted / portfolioVol(cov, w);
}

/**
 * Effective number of bets as the exponential of the Shannon entropy of the relative risk contributions,
 * exp(−Σ p_i ln p_i): n for equal risk contributions, 1 when one asset carries all the risk. Negative
 * contributions (hedges) have no entropy, so p uses |RC_i| / Σ|RC_j|.
 */
export function effectiveNumberOfBets<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, w: Weights): number {
  const rel = riskContributions(cov, w).relative;
  const total = rel.reduce((s, p) => s + Math.abs(p), 0);
  let entropy = 0;
  for (const r of rel) {
    const p = Math.abs(r) / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/** Unweighted mean of the off-diagonal correlations ρ_ij, i < j. NaN for a single asset. */
export function averagePairwiseCorrelation<U extends CovarianceUnit>(cov: CovarianceMatrix<U>): number {
  const n = cov.assets.length;
  if (n < 2) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) sum += cov.values[i * n + j] / Math.sqrt(cov.values[i * n + i] * cov.values[j * n + j]);
  }
  return (2 * sum) / (n * (n - 1));
}

/**
 * How much of the volatility budget the actual positions use: √(wᵀΣw) / budget, with correlations.
 * 1 = exactly at budget; above 1 = over budget. `budgetVol` must be in the unit of the covariance.
 */
export function riskUtilization<U extends CovarianceUnit>(cov: CovarianceMatrix<U>, actual: Weights, budgetVol: VolOf<U>): Fraction {
  if (!(budgetVol > 0)) throw new DataError(`risk budget volatility must be positive, got ${budgetVol}`);
  return fraction(portfolioVol(cov, actual) / budgetVol);
}

function checkSize(cov: CovarianceMatrix, w: Weights): number {
  const n = cov.assets.length;
  if (w.length !== n) throw new DataError(`got ${w.length} weights for a ${n}-asset covariance`);
  return n;
}
