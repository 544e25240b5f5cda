import { equalRiskContribution } from '../../../../risk/allocation/riskBudgeting';
import { twoLevelAllocation } from '../../../../risk/allocation/twoLevel';
import { covarianceFromRows } from '../../../../risk/covariance';
import { riskContributions } from '../../../../risk/measures';
import { constantCorrelation, covFromVolCorr } from './helpers';

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

describe('two-level allocation', () => {
  it('reduces to plain risk budgeting when every strategy holds one asset', () => {
    const corr = constantCorrelation(3, 0.3);
    corr[0][2] = corr[2][0] = -0.1;
    const cov = covFromVolCorr([0.1, 0.2, 0.3], corr);
    const r = twoLevelAllocation(cov, [
      { name: 's1', riskBudget: 1 / 3, assets: ['A1'] },
      { name: 's2', riskBudget: 1 / 3, assets: ['A2'] },
      { name: 's3', riskBudget: 1 / 3, assets: ['A3'] },
    ]);
    const erc = equalRiskContribution(cov);
    r.strategies.forEach((s, i) => expect(s.weight).toBeCloseTo(erc.weights[i], 12));
    expect(r.budgetError).toBeLessThan(1e-10);
  });

  it('solves uncorrelated blocks by hand', () => {
    // Strategy "eq": two uncorrelated assets with σ = 20 %, 20 % → inner ERC 50/50, strategy σ = 20 %/√2.
    // Strategy "bd": one asset with σ = 5 %. Strategies uncorrelated, budgets 0.8 / 0.2:
    // v ∝ √b / σ_s = (√0.8/0.14142, √0.2/0.05) = (6.3246, 8.9443) → v_eq = 0.41421, v_bd = 0.58579.
    const cov = covarianceFromRows(
      'annualized',
      ['x', 'y', 'z'],
      [
        [0.04, 0, 0],
        [0, 0.04, 0],
        [0, 0, 0.0025],
      ],
    );
    const r = twoLevelAllocation(cov, [
      { name: 'eq', riskBudget: 0.8, assets: ['x', 'y'] },
      { name: 'bd', riskBudget: 0.2, assets: ['z'] },
    ]);
    const vEq = Math.sqrt(0.8) / (0.2 / Math.SQRT2);
    const vBd = Math.sqrt(0.2) / 0.05;
    expect(r.strategies[0].weight).toBeCloseTo(vEq / (vEq + vBd), 12);
    expect(r.strategies[0].vol).toBeCloseTo(0.2 / Math.SQRT2, 14);
    expect(r.strategies[0].riskContribution).toBeCloseTo(0.8, 10);
    const [x, y, z] = r.pairs;
    expect(x.weightInStrategy).toBeCloseTo(0.5, 12);
    expect(x.weight).toBeCloseTo(r.strategies[0].weight / 2, 12);
    expect(x.riskContribution).toBeCloseTo(0.4, 10);
    expect(y.riskContributionInStrategy).toBeCloseTo(0.5, 10);
    expect(z.riskContribution).toBeCloseTo(0.2, 10);
  });

  it('meets strategy budgets exactly with correlated, overlapping strategies and custom asset budgets', () => {
    const corr = constantCorrelation(5, 0.4);
    corr[3][4] = corr[4][3] = -0.2;
    const cov = covFromVolCorr([0.15, 0.25, 0.2, 0.05, 0.08], corr);
    const r = twoLevelAllocation(cov, [
      { name: 'trend', riskBudget: 0.5, assets: ['A1', 'A2', 'A3'], assetBudgets: [0.5, 0.3, 0.2] },
      { name: 'carry', riskBudget: 0.3, assets: ['A3', 'A4', 'A5'] },
      { name: 'value', riskBudget: 0.2, assets: ['A1', 'A5'] },
    ]);
    r.strategies.forEach((s) => expect(Math.abs(s.riskContribution - s.riskBudget)).toBeLessThan(1e-10));
    // Pair contributions add up to the strategy's contribution, and to 1 overall.
    for (const s of r.strategies) {
      expect(sum(r.pairs.filter((p) => p.strategy === s.strategy).map((p) => p.riskContribution))).toBeCloseTo(s.riskContribution, 10);
    }
    expect(sum(r.pairs.map((p) => p.riskContribution))).toBeCloseTo(1, 12);
    const trend = r.pairs.filter((p) => p.strategy === 'trend');
    [0.5, 0.3, 0.2].forEach((b, k) => expect(trend[k].riskContributionInStrategy).toBeCloseTo(b, 10));
    // Net weights per asset aggregate the overlapping pairs, and are what the portfolio risk is measured on.
    const a1 = sum(r.pairs.filter((p) => p.asset === 'A1').map((p) => p.weight));
    expect(r.assetWeights[0]).toBeCloseTo(a1, 14);
    expect(sum(r.assetWeights)).toBeCloseTo(1, 12);
    expect(r.portfolioVol).toBeCloseTo(riskContributions(cov, r.assetWeights).portfolioVol, 14);
  });

  it('supports inverse-vol and HRP inside strategies', () => {
    const cov = covFromVolCorr([0.1, 0.2, 0.4], constantCorrelation(3, 0.5));
    const r = twoLevelAllocation(cov, [{ name: 's', riskBudget: 1, assets: ['A1', 'A2', 'A3'] }], { inner: 'ivol' });
    expect(r.pairs.map((p) => p.weight)).toEqual([4 / 7, 2 / 7, 1 / 7].map((x) => expect.closeTo(x, 12)));
    expect(Number.isNaN(r.strategies[0].innerBudgetError)).toBe(true);
    const h = twoLevelAllocation(cov, [{ name: 's', riskBudget: 1, assets: ['A1', 'A2', 'A3'] }], { inner: 'hrp' });
    expect(sum(h.pairs.map((p) => p.weight))).toBeCloseTo(1, 14);
  });

  it('validates budgets and strategy definitions with clear errors', () => {
    const cov = covFromVolCorr([0.1, 0.2], constantCorrelation(2, 0));
    expect(() => twoLevelAllocation(cov, [{ name: 's', riskBudget: 0.9, assets: ['A1'] }])).toThrow(/strategy risk budget sums to 0.9/);
    expect(() =>
      twoLevelAllocation(cov, [
        { name: 's', riskBudget: 0.5, assets: ['A1'] },
        { name: 's', riskBudget: 0.5, assets: ['A2'] },
      ]),
    ).toThrow(/listed twice/);
    expect(() => twoLevelAllocation(cov, [{ name: 's', riskBudget: 1, assets: ['ZZ'] }])).toThrow(/asset ZZ is not in the covariance/);
    expect(() => twoLevelAllocation(cov, [{ name: 's', riskBudget: 1, assets: ['A1', 'A2'], assetBudgets: [0.7, 0.7] }])).toThrow(
      /asset risk budget of strategy s sums to 1.4/,
    );
    expect(() => twoLevelAllocation(cov, [{ name: 's', riskBudget: 1, assets: [] }])).toThrow(/no assets/);
  });
});
