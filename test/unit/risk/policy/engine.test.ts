import * as path from 'node:path';
import { readPriceFile } from '../../../../market/csvPrices';
import type { RiskBudget } from '../../../../risk/budget';
import { defaultRiskConfig } from '../../../../risk/config';
import { buildRiskBudget } from '../../../../risk/engine';
import { DataError, type PriceTable, sliceTable } from '../../../../risk/timeseries';

const SP500 = path.resolve(__dirname, '../../../../../shared/data/skfolio/sp500_dataset.csv.gz');
const ASSETS = ['AAPL', 'JNJ', 'XOM', 'KO', 'JPM'];

/** The last `rows` prices of the named assets: 127 prices = 126 daily returns. */
function lastRows(table: PriceTable, rows: number): PriceTable {
  const n = table.dates.length;
  return { dates: table.dates.slice(n - rows), assets: table.assets, series: table.series.map((s) => s.slice(n - rows)) };
}

const full = sliceTable(readPriceFile(SP500), { assets: ASSETS });
const window = lastRows(full, 127);
const config = defaultRiskConfig();
const budgetFor = (regime: string, extra: Partial<Parameters<typeof buildRiskBudget>[0]> = {}): RiskBudget =>
  buildRiskBudget({ portfolioId: 'p1', asOf: window.dates[126], prices: window, regime, config, ...extra });

function expectConsistent(b: RiskBudget): void {
  const gross = b.assets.reduce((s, a) => s + Math.abs(a.targetNotional), 0);
  expect(gross).toBeCloseTo(b.limits.grossLeverage * b.limits.capital, 4);
  const invested = gross / b.limits.capital;
  expect(b.limits.cashWeight + invested).toBeCloseTo(1, 10);
  const limits = [
    b.limits.maxGrossNotional, b.limits.maxNetNotional, b.limits.maxOrderNotional, b.limits.priceCollar, b.forecastVol,
    ...b.strategies.flatMap((s) => [s.capital, s.maxGrossNotional, s.maxNetNotional]),
    ...b.assets.flatMap((a) => [a.targetNotional, a.maxPositionNotional, a.referencePrice, a.forecastVol]),
  ];
  for (const x of limits) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThanOrEqual(0);
  }
  expect(b.limits.maxGrossNotional).toBeGreaterThanOrEqual(gross);
  for (const a of b.assets) expect(a.maxPositionNotional).toBeGreaterThanOrEqual(0);
}

describe('buildRiskBudget on S&P 500 data (5 assets, 126 daily returns ending 2022-12-28)', () => {
  const bull = budgetFor('bull');
  const crisis = budgetFor('crisis');

  it('produces consistent limits in every regime', () => {
    for (const regime of ['bull', 'neutral', 'bear', 'crisis']) expectConsistent(budgetFor(regime));
  });

  it('targets the regime vol unless a bound binds, and reports the bound', () => {
    expect(bull.diagnostics.leverageBound).toBeDefined();
    if (bull.diagnostics.leverageBound === 'target' && bull.diagnostics.correlationScaled === false) {
      expect(bull.forecastVol).toBeCloseTo(bull.volTarget, 10);
    } else {
      expect(bull.forecastVol).toBeLessThan(bull.volTarget + 1e-12);
    }
    expect(crisis.forecastVol).toBeLessThanOrEqual(crisis.volTarget + 1e-12);
  });

  it('gives strictly tighter limits in crisis than in bull on the same data', () => {
    expect(crisis.limits.grossLeverage).toBeLessThan(bull.limits.grossLeverage);
    expect(crisis.limits.maxGrossNotional).toBeLessThan(bull.limits.maxGrossNotional);
    expect(crisis.limits.maxNetNotional).toBeLessThan(bull.limits.maxNetNotional);
    expect(crisis.limits.cashWeight).toBeGreaterThan(bull.limits.cashWeight);
    expect(crisis.forecastVol).toBeLessThan(bull.forecastVol);
    for (const a of crisis.assets) {
      const b = bull.assets.find((x) => x.asset === a.asset && x.strategy === a.strategy)!;
      expect(a.maxPositionNotional).toBeLessThan(b.maxPositionNotional);
      expect(a.targetNotional).toBeLessThan(b.targetNotional);
    }
    expect(crisis.limits.maxOrderNotional).toBeLessThanOrEqual(bull.limits.maxOrderNotional);
  });

  it('keeps an explicit cash leg when gross < 1', () => {
    expect(crisis.limits.grossLeverage).toBeLessThan(1);
    expect(crisis.limits.cashWeight).toBeCloseTo(1 - crisis.limits.grossLeverage, 12);
    const weightSum = crisis.assets.reduce((s, a) => s + a.targetWeight, 0);
    expect(weightSum).toBeCloseTo(1, 10); // book weights; the cash leg is carried by leverage, not renormalized into them
  });

  it('uses one "core" strategy holding every asset when none are configured', () => {
    expect(bull.strategies.map((s) => s.strategy)).toEqual(['core']);
    expect(bull.assets.map((a) => a.asset).sort()).toEqual([...ASSETS].sort());
    expect(bull.assets.every((a) => a.referencePrice === window.series[ASSETS.indexOf(a.asset)][126])).toBe(true);
  });

  it('is deterministic', () => {
    expect(budgetFor('bear')).toEqual(budgetFor('bear'));
  });

  it('throws DataError with too few observations', () => {
    const short = lastRows(full, 10);
    expect(() => buildRiskBudget({ portfolioId: 'p1', asOf: short.dates[9], prices: short, regime: 'bull', config })).toThrow(DataError);
  });
});
