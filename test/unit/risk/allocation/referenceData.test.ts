/**
 * Known answers from other libraries' stored outputs, on the real data in /work/shared/data.
 */
import { readFileSync } from 'node:fs';
import { sharedDataFile } from '../../../../lib/paths';
import { readPriceFile } from '../../../../market/csvPrices';
import { hrpWeights, inverseVarianceClusterVariance } from '../../../../risk/allocation/hrp';
import { equalRiskContribution, riskBudgetingWeights } from '../../../../risk/allocation/riskBudgeting';
import {
  annualizeCovariance,
  correlationFromCovariance,
  covarianceFromRows,
  ledoitWolf,
  pairwiseCorrelation,
  pairwiseSampleCovariance,
  sampleCovariance,
} from '../../../../risk/covariance';
import { portfolioVol, riskContributions } from '../../../../risk/measures';
import { alignedReturns, lastObservations, periodReturns } from '../../../../risk/returns';
import { sliceTable } from '../../../../risk/timeseries';
import { periodsPerYear, weights } from '../../../../risk/units';

function readWeights(file: string, column: string): Map<string, number> {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const col = header.split(',').indexOf(column);
  return new Map(rows.map((r) => r.split(',')).map((cells) => [cells[0], Number(cells[col])]));
}

describe('PyPortfolioOpt HRP (tests/weights_hrp.csv)', () => {
  // Convention (PyPortfolioOpt test_hrp.py): returns = prices.pct_change().dropna(how="all"), i.e. simple
  // returns on each asset's own calendar, NaN before a listing; cov and corr are pandas pairwise-complete
  // (ddof 1); single linkage on √((1−ρ)/2). The stored weights carry full double precision.
  const table = readPriceFile(sharedDataFile('pypfopt/tests/stock_prices.csv'));
  const returns = periodReturns(table, 'simple');
  const estimate = pairwiseSampleCovariance(returns);
  const correlation = pairwiseCorrelation(returns);

  it('uses the pairwise covariance unrepaired (it is positive definite here)', () => {
    expect(estimate.repaired).toBeNull();
  });

  it('reproduces the cluster variance of test_cluster_var', () => {
    const tickers = ['SHLD', 'AMD', 'BBY', 'RRC', 'FB', 'WMT', 'T', 'BABA', 'PFE', 'UAA'];
    const idx = tickers.map((t) => table.assets.indexOf(t));
    expect(inverseVarianceClusterVariance(estimate.covariance, idx)).toBeCloseTo(0.00012842967106653283, 15);
  });

  it('reproduces the quasi-diagonal order and the stored weights', () => {
    const hrp = hrpWeights(estimate.covariance, { correlation });
    expect(hrp.order.slice(0, 5)).toEqual([12, 6, 15, 14, 2]);
    const expected = readWeights(sharedDataFile('pypfopt/tests/weights_hrp.csv'), '0');
    expect(expected.size).toBe(20);
    for (const [ticker, w] of expected) {
      expect(Math.abs(hrp.weights[table.assets.indexOf(ticker)] - w)).toBeLessThan(1e-12);
    }
    // test_portfolio_performance: annualized volatility (×252) of the HRP weights under the pairwise cov.
    const annual = annualizeCovariance(estimate.covariance, periodsPerYear(252));
    expect(portfolioVol(annual, hrp.weights)).toBeCloseTo(0.17844159743748936, 12);
  });
});

describe('scikit-learn LedoitWolf, via PyPortfolioOpt test_hrp.py::test_pass_cov_matrix', () => {
  // PyPortfolioOpt's CovarianceShrinkage(prices).ledoit_wolf(): returns = pct_change().dropna(how="all"),
  // NaN (before a listing) replaced by 0, sklearn.covariance.ledoit_wolf (centred, divides by T), ×252.
  // HRPOpt(cov_matrix=S) clusters on cov_to_corr(S).round(6); the stored HRP volatility is
  // 0.10002783894982334, so matching it checks our Ledoit–Wolf against scikit-learn's numbers end to end.
  it('reproduces the HRP volatility on the Ledoit–Wolf covariance', () => {
    const table = readPriceFile(sharedDataFile('pypfopt/tests/stock_prices.csv'));
    const raw = periodReturns(table, 'simple');
    const zeroFilled = { ...raw, columns: raw.columns.map((c) => c.map((v) => (Number.isFinite(v) ? v : 0))) };
    const estimate = ledoitWolf(zeroFilled);
    expect(estimate.shrinkage!).toBeGreaterThan(0);
    expect(estimate.shrinkage!).toBeLessThan(0.05);
    const cov = annualizeCovariance(estimate.covariance, periodsPerYear(252));
    const correlation = correlationFromCovariance(cov.values, cov.assets.length).map((x) => Math.round(x * 1e6) / 1e6);
    const hrp = hrpWeights(cov, { correlation });
    expect(portfolioVol(cov, hrp.weights)).toBeCloseTo(0.10002783894982334, 14);
  });
});

describe('Riskfolio-Lib variance ERC (tests/Classic_RP.csv, column MV)', () => {
  // Convention (Riskfolio test_portfolio.py): assets sorted, Y = prices[assets].pct_change().dropna()
  // .iloc[-200:], sample covariance (ddof 1; ERC weights do not depend on the scale). Riskfolio solves
  // a log-barrier cone program with CLARABEL; its stored weights give relative risk contributions that
  // miss 1/10 by up to 4e-6, so weights can only be compared to that order: 5e-6 (theirs: 6 decimals).
  const assets = ['AMZN', 'APA', 'CMCSA', 'CPB', 'JCI', 'JPM', 'MMC', 'MO', 'TGT', 'ZION'];
  const table = sliceTable(readPriceFile(sharedDataFile('riskfolio/tests/stock_prices.csv')), { assets });
  const returns = lastObservations(alignedReturns(table, { minHistory: 201 }).returns, 200);
  const cov = sampleCovariance(returns).covariance;
  const stored = readWeights(sharedDataFile('riskfolio/tests/Classic_RP.csv'), 'MV');
  const theirs = weights(assets.map((a) => stored.get(a)!));

  it('uses the 200 returns ending 2019-12-27', () => {
    expect(returns.dates.length).toBe(200);
    expect(returns.dates[0]).toBe('2019-03-15');
    expect(returns.dates[199]).toBe('2019-12-27');
  });

  it('matches the stored weights to the precision the stored weights themselves reach', () => {
    const theirError = Math.max(...riskContributions(cov, theirs).relative.map((rc) => Math.abs(rc - 0.1)));
    expect(theirError).toBeGreaterThan(1e-6);
    expect(theirError).toBeLessThan(5e-6);
    const erc = equalRiskContribution(cov);
    expect(erc.budgetError).toBeLessThan(1e-10);
    erc.weights.forEach((w, i) => expect(Math.abs(w - theirs[i])).toBeLessThan(5e-6));
  });
});

describe('ill-conditioned input (PyPortfolioOpt tests/cov_matrix.csv: 95 assets, condition number ≈ 1.9e6)', () => {
  const [header, ...lines] = readFileSync(sharedDataFile('pypfopt/tests/cov_matrix.csv'), 'utf8').trim().split(/\r?\n/);
  const assets = header.split(',').slice(1);
  const cov = covarianceFromRows(
    'annualized',
    assets,
    lines.map((l) => l.split(',').slice(1).map(Number)),
  );

  it('solves ERC and an uneven budget to 1e-10 with Newton, warm or cold', () => {
    expect(assets).toHaveLength(95);
    const warm = equalRiskContribution(cov);
    const cold = equalRiskContribution(cov, { warmStartSweeps: 0 });
    for (const r of [warm, cold]) {
      expect(r.solver).toBe('newton');
      expect(r.budgetError).toBeLessThan(1e-10);
    }
    warm.weights.forEach((w, i) => expect(Math.abs(w - cold.weights[i])).toBeLessThan(1e-10));
    const raw = assets.map((_, i) => (i % 7) + 1);
    const total = raw.reduce((s, x) => s + x, 0);
    const budgets = raw.map((x) => x / total);
    const rc = riskContributions(cov, riskBudgetingWeights(cov, budgets).weights).relative;
    rc.forEach((x, i) => expect(Math.abs(x - budgets[i])).toBeLessThan(1e-10));
  });
});
