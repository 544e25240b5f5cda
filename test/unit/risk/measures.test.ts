import { covarianceFromRows } from '../../../risk/covariance';
import {
  averagePairwiseCorrelation,
  diversificationRatio,
  effectiveNumberOfBets,
  portfolioVol,
  riskContributions,
  riskUtilization,
} from '../../../risk/measures';
import { type AnnualizedVol, weights } from '../../../risk/units';
import { constantCorrelation, covFromVolCorr } from './helpers';

describe('risk measures', () => {
  // σ = (20 %, 10 %), ρ = 0.5: Σ = [[0.04, 0.01], [0.01, 0.01]]. w = (0.5, 0.5):
  // Σw = (0.025, 0.01), wᵀΣw = 0.0175, σ_p = 13.229 %.
  const cov = covarianceFromRows(
    'annualized',
    ['eq', 'bd'],
    [
      [0.04, 0.01],
      [0.01, 0.01],
    ],
  );
  const w = weights([0.5, 0.5]);

  it('computes portfolio volatility with the correlation', () => {
    expect(portfolioVol(cov, w)).toBeCloseTo(Math.sqrt(0.0175), 15);
  });

  it('splits volatility into Euler contributions that add up', () => {
    const rc = riskContributions(cov, w);
    const sigma = Math.sqrt(0.0175);
    expect(rc.marginal[0]).toBeCloseTo(0.025 / sigma, 15);
    expect(rc.absolute[0]).toBeCloseTo((0.5 * 0.025) / sigma, 15);
    expect(rc.absolute[0] + rc.absolute[1]).toBeCloseTo(sigma, 15);
    expect(rc.relative[0]).toBeCloseTo(0.0125 / 0.0175, 15);
    expect(rc.relative[1]).toBeCloseTo(0.005 / 0.0175, 15);
  });

  it('computes the diversification ratio Σwσ / σ_p', () => {
    expect(diversificationRatio(cov, w)).toBeCloseTo(0.15 / Math.sqrt(0.0175), 15);
  });

  it('counts effective bets as exp(entropy of relative risk contributions)', () => {
    const p = [0.0125 / 0.0175, 0.005 / 0.0175];
    expect(effectiveNumberOfBets(cov, w)).toBeCloseTo(Math.exp(-p[0] * Math.log(p[0]) - p[1] * Math.log(p[1])), 14);
    // Equal risk contributions over 4 assets → 4 bets.
    const diag = covFromVolCorr([0.1, 0.2, 0.3, 0.4], constantCorrelation(4, 0));
    expect(effectiveNumberOfBets(diag, weights([12 / 25, 6 / 25, 4 / 25, 3 / 25]))).toBeCloseTo(4, 12);
  });

  it('averages pairwise correlations', () => {
    expect(averagePairwiseCorrelation(cov)).toBeCloseTo(0.5, 15);
    const c = constantCorrelation(3, 0.2);
    c[0][1] = c[1][0] = 0.8;
    expect(averagePairwiseCorrelation(covFromVolCorr([0.1, 0.2, 0.3], c))).toBeCloseTo(0.4, 15);
  });

  it('measures risk utilization on correlated portfolio risk, not on the sum of stand-alone risks', () => {
    const budget = 0.1 as AnnualizedVol;
    const u = riskUtilization(cov, w, budget);
    expect(u).toBeCloseTo(Math.sqrt(0.0175) / 0.1, 15);
    // The naive Σ w_i σ_i = 15 % would claim 150 % utilization.
    expect(u).toBeLessThan(1.5);
    expect(() => riskUtilization(cov, w, 0 as AnnualizedVol)).toThrow(/positive/);
  });

  it('rejects weight vectors of the wrong length', () => {
    expect(() => portfolioVol(cov, weights([1]))).toThrow(/1 weights for a 2-asset covariance/);
  });
});
