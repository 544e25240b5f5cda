/** Budget vs actual risk share per strategy, worked out by hand on two uncorrelated assets. */
import { covarianceFromRows } from '../../../risk/covariance';
import { denseRiskModel, factorFormOf, factorRiskModel } from '../../../risk/riskModel';
import { strategyRiskShares } from '../../../risk/strategyRisk';
import { budget } from './pretrade/fixtures';

// AAPL σ 20 %, MSFT σ 20 %, XOM σ 30 %, all uncorrelated.
const cov = covarianceFromRows(
  'annualized',
  ['AAPL', 'MSFT', 'XOM'],
  [
    [0.04, 0, 0],
    [0, 0.04, 0],
    [0, 0, 0.09],
  ],
);

describe('strategyRiskShares', () => {
  // trend holds 100k of AAPL (σ 20k), carry 50k of XOM (σ 15k): V = 4e8 + 2.25e8, σ = 25k = 2.5 % of 1M.
  const positions = [
    { strategy: 'trend', asset: 'AAPL', quantity: 1_000 },
    { strategy: 'carry', asset: 'XOM', quantity: 1_000 },
  ];

  it('gives each strategy its Euler share of the book risk beside its budgeted share', () => {
    const r = strategyRiskShares(denseRiskModel(cov), budget(), positions);
    expect(r.bookVol).toBeCloseTo(0.025, 12);
    expect(r.strategies.map((s) => [s.strategy, s.budget])).toEqual([
      ['trend', 0.7],
      ['carry', 0.3],
    ]);
    expect(r.strategies[0].actual).toBeCloseTo(0.64, 12);
    expect(r.strategies[1].actual).toBeCloseTo(0.36, 12);
    expect(r.strategies[0].volContribution + r.strategies[1].volContribution).toBeCloseTo(0.025, 12);
  });

  it('shares sum to one, agree in factor form, and name a held strategy the budget does not', () => {
    const hedged = strategyRiskShares(denseRiskModel(cov), budget(), [...positions, { strategy: 'stray', asset: 'MSFT', quantity: 10 }]);
    expect(hedged.strategies.map((s) => s.strategy)).toEqual(['trend', 'carry', 'stray']);
    expect(hedged.strategies[2].budget).toBe(0);
    const sum = hedged.strategies.reduce((s, x) => s + (x.actual ?? 0), 0);
    expect(sum).toBeCloseTo(1, 12);
    const factor = strategyRiskShares(factorRiskModel(factorFormOf(cov, 3)), budget(), positions);
    expect(factor.strategies[0].actual).toBeCloseTo(0.64, 6);
  });

  it('has no actual shares for an empty book', () => {
    const r = strategyRiskShares(denseRiskModel(cov), budget(), []);
    expect(r.bookVol).toBe(0);
    expect(r.strategies.every((s) => s.actual === null)).toBe(true);
  });
});
