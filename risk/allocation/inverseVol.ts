/** Inverse-volatility weights: w_i ∝ 1/σ_i. Equal risk contributions only when correlations are equal. */
import type { CovarianceMatrix } from '../covariance';
import { assetVols } from '../measures';
import { type Weights, fraction } from '../units';

export function inverseVolWeights(cov: CovarianceMatrix): Weights {
  const inv = assetVols(cov).map((v) => 1 / v);
  const total = inv.reduce((s, x) => s + x, 0);
  return inv.map((x) => fraction(x / total));
}

/** Inverse-variance weights: w_i ∝ 1/σ_i² (the minimum-variance portfolio when Σ is diagonal). */
export function inverseVarianceWeights(cov: CovarianceMatrix): Weights {
  const n = cov.assets.length;
  const inv = Array.from({ length: n }, (_, i) => 1 / cov.values[i * n + i]);
  const total = inv.reduce((s, x) => s + x, 0);
  return inv.map((x) => fraction(x / total));
}
