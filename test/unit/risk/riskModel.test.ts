/**
 * The risk model a budget carries: the engine names it by content id with the vol limit and tolerance
 * of the config; its covariance is the one the budget was sized with; the factor form keeps each asset's
 * variance exactly; the body round-trips through JSON (the store's jsonb).
 */
import { sharedDataFile } from '../../../lib/paths';
import { readPriceFile } from '../../../market/csvPrices';
import { parseRiskConfig } from '../../../risk/config';
import { buildBudgetWithModel } from '../../../risk/engine';
import { denseCovarianceOf, factorVariance } from '../../../risk/factorModel';
import { type RiskModel, factorFormOf, loadRiskModel, riskModelId } from '../../../risk/riskModel';
import { sliceTable } from '../../../risk/timeseries';
import { randomFactorModel } from './helpers';

const full = sliceTable(readPriceFile(sharedDataFile('skfolio', 'sp500_dataset.csv.gz')), { assets: ['AAPL', 'JNJ', 'XOM', 'KO', 'JPM'] });
const rows = 127;
const window = sliceTable(full, { start: full.dates[full.dates.length - rows] });

test('the engine attaches the covariance it sized the budget with, by content id, and the configured limits', () => {
  const config = parseRiskConfig({ risk_budgeting: { gate: { vol_limit_multiple: 1.5, risk_budget_tolerance: 0.05 } } });
  const { budget, riskModel } = buildBudgetWithModel({
    portfolioId: 'p1',
    asOf: window.dates[rows - 1],
    prices: window,
    regime: 'bull',
    config,
  });
  expect(budget.riskLimits).toEqual({
    modelId: riskModelId(riskModel),
    form: 'dense',
    assetCount: 5,
    volLimit: Math.max(budget.volTarget, budget.forecastVol) * 1.5,
    riskBudgetTolerance: 0.05,
  });
  // The budget's forecast vol is √(wᵀΣw) of its target notionals on this very matrix.
  const cov = loadRiskModel(JSON.parse(JSON.stringify(riskModel)) as RiskModel);
  const n = riskModel.assets.length;
  const x = riskModel.assets.map((a) =>
    budget.assets.filter((p) => p.asset === a).reduce((s, p) => s + p.targetNotional / budget.limits.capital, 0),
  );
  let v = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v += x[i] * (cov as { values: Float64Array }).values[i * n + j] * x[j];
  expect(Math.sqrt(v)).toBeCloseTo(budget.forecastVol, 10);
  // Compact: the budget carries ~200 bytes of risk limits, not the matrix.
  expect(JSON.stringify(budget.riskLimits).length).toBeLessThan(250);
});

test('the derived factor form keeps every asset variance exactly', () => {
  const dense = denseCovarianceOf(randomFactorModel(40, 6, 3));
  const factor = factorFormOf(dense, 5);
  for (let i = 0; i < 40; i++) {
    const e = new Float64Array(40);
    e[i] = 1;
    expect(factorVariance(factor, e)).toBeCloseTo(dense.values[i * 40 + i], 12);
  }
});
