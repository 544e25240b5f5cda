import * as path from 'node:path';
import { sharedDataFile } from '../../../lib/paths';
import { readPriceFile } from '../../../market/csvPrices';
import type { RiskBudget } from '../../../risk/budget';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG_DOCUMENT, type RiskConfig, defaultRiskConfig, loadRiskConfigText, parseRiskConfig } from '../../../risk/config';
import { annualizeEstimate, ledoitWolf } from '../../../risk/covariance';
import { buildRiskBudget } from '../../../risk/engine';
import { assetVols, portfolioVol } from '../../../risk/measures';
import { alignedReturns } from '../../../risk/returns';
import { DataError, type PriceTable, sliceTable } from '../../../risk/timeseries';
import { currency, weights } from '../../../risk/units';

const SP500 = sharedDataFile('skfolio', 'sp500_dataset.csv.gz');
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

/** Default config with some `risk_budgeting` sections overridden. */
const configWith = (patch: Record<string, unknown>): RiskConfig =>
  parseRiskConfig({ risk_budgeting: { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting, ...patch } });

/** Default regimes with one regime's settings overridden. */
const regimesWith = (name: string, patch: Record<string, unknown>) => {
  const regimes: Record<string, object> = { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting.regime_allocations };
  return { ...regimes, [name]: { ...regimes[name], ...patch } };
};

function expectConsistent(b: RiskBudget): void {
  const gross = b.assets.reduce((s, a) => s + Math.abs(a.targetNotional), 0);
  expect(gross).toBeCloseTo(b.limits.grossLeverage * b.limits.capital, 4);
  const invested = gross / b.limits.capital;
  // The cash leg is what is not invested; leverage above 1 is financed, never negative cash.
  expect(b.limits.cashWeight).toBeCloseTo(Math.max(0, 1 - invested), 10);
  const limits = [
    b.limits.maxGrossNotional,
    b.limits.maxNetNotional,
    b.limits.maxOrderNotional,
    b.limits.priceCollar,
    b.forecastVol,
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

describe('buildRiskBudget: vol targeting on the whole book', () => {
  const neutral = budgetFor('neutral');

  it('forecast vol is √(wᵀΣw) of the positions, independently recomputed, and meets the target', () => {
    const { returns } = alignedReturns(window, { minHistory: 21 });
    const cov = annualizeEstimate(ledoitWolf(returns), config.periodsPerYear).covariance;
    const w = cov.assets.map(
      (asset) => neutral.assets.filter((a) => a.asset === asset).reduce((s, a) => s + a.targetNotional, 0) / neutral.limits.capital,
    );
    expect(portfolioVol(cov, weights(w))).toBeCloseTo(neutral.forecastVol, 12);
    expect(neutral.diagnostics.leverageBound).toBe('target');
    expect(neutral.forecastVol).toBeCloseTo(0.1, 12);
    // Diversification counts: an average of single-asset vols would have given a lower leverage.
    const avgAssetVol = assetVols(cov).reduce((s, v, i) => s + v * (w[i] / neutral.limits.grossLeverage), 0);
    expect(avgAssetVol).toBeGreaterThan(neutral.diagnostics.bookVol as number);
  });

  it('a regime cap binds when the target asks for more: bull at a 50 % vol target is capped at 1.0 × 1.5 leverage', () => {
    const hot = configWith({ regime_allocations: regimesWith('bull', { vol_target: 0.5 }) });
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: window, regime: 'bull', config: hot });
    expect(b.diagnostics.rawLeverage).toBeGreaterThan(1);
    expect(b.diagnostics.leverageBound).toBe('regime-cap');
    expect(b.diagnostics.regimeCap).toBeCloseTo(1.5, 12);
    expect(b.limits.grossLeverage).toBeCloseTo(1.5, 12);
    expect(b.limits.cashWeight).toBeCloseTo(0, 12);
    expect(b.limits.maxGrossNotional).toBeCloseTo(1.5 * b.limits.capital, 4); // no headroom above a hard cap
    expectConsistent(b);
  });

  it('the step limit holds leverage near the previous budget (bull → neutral, max_step 0.01)', () => {
    const bull = budgetFor('bull');
    const slow = configWith({ leverage: { floor: 0, cap: 2, max_step: 0.01, smoothing: 0 } });
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: window, regime: 'neutral', config: slow, previous: bull });
    expect(b.diagnostics.leverageBound).toBe('max-step');
    expect(b.limits.grossLeverage).toBeCloseTo(bull.limits.grossLeverage - 0.01, 12);
  });

  it('a tighter regime cap is not walked down by the step limit (bull → crisis)', () => {
    const bull = budgetFor('bull', { config: configWith({ regime_allocations: regimesWith('bull', { vol_target: 0.5 }) }) });
    const slow = configWith({
      leverage: { floor: 0, cap: 2, max_step: 0.1, smoothing: 0 },
      regime_allocations: regimesWith('crisis', { vol_target: 0.5 }),
    });
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: window, regime: 'crisis', config: slow, previous: bull });
    expect(bull.limits.grossLeverage).toBeCloseTo(1.5, 12); // bull cap 1.0 × 1.5
    expect(b.diagnostics.leverageBound).toBe('regime-cap');
    expect(b.limits.grossLeverage).toBeCloseTo(0.24, 12); // crisis cap 0.4 × 0.6, not 1.5 − one 0.1 step
  });
});

describe('buildRiskBudget: correlation awareness', () => {
  const base = budgetFor('neutral');
  const avg = base.diagnostics.avgCorrelation as number;
  const scaledAt = (threshold: number) =>
    buildRiskBudget({
      portfolioId: 'p1',
      asOf: 'x',
      prices: window,
      regime: 'neutral',
      config: configWith({ correlation: { threshold, scale: 0.8 } }),
    });

  it('measures the average pairwise correlation of the window', () => {
    expect(avg).toBeGreaterThan(0.2);
    expect(avg).toBeLessThan(0.75);
    expect(base.diagnostics.correlationScaled).toBe(false);
  });

  it('does not scale at exactly the threshold', () => {
    const b = scaledAt(avg);
    expect(b.diagnostics.correlationScaled).toBe(false);
    expect(b.limits.grossLeverage).toBe(base.limits.grossLeverage);
  });

  it('scales leverage by exactly `scale` just above it, and records it', () => {
    const b = scaledAt(avg - 1e-9);
    expect(b.diagnostics.correlationScaled).toBe(true);
    expect(b.diagnostics.correlationScale).toBe(0.8);
    expect(b.limits.grossLeverage / base.limits.grossLeverage).toBeCloseTo(0.8, 12);
    expect(b.forecastVol).toBeCloseTo(0.8 * base.forecastVol, 12);
    expect(b.limits.cashWeight).toBeCloseTo(1 - b.limits.grossLeverage, 12);
    expectConsistent(b);
  });
});

describe('buildRiskBudget: strategies, position caps and data problems', () => {
  const example = loadRiskConfigText(readFileSync(path.resolve(__dirname, '../../../config/ballast.example.yaml'), 'utf8'));
  const tickers = example.strategies.flatMap((s) => s.assets);
  const ten = lastRows(sliceTable(readPriceFile(SP500), { assets: tickers }), 127);
  const run = (regime: string) => buildRiskBudget({ portfolioId: 'p2', asOf: 'x', prices: ten, regime, config: example });

  it('strategies carry their tilted risk budgets (bear: cyclical tilt 0.5 → 1/3 vs 2/3)', () => {
    const b = run('bear');
    expectConsistent(b);
    expect(b.diagnostics.positionsCapped).toBe(0);
    const share = (name: string) => b.assets.filter((a) => a.strategy === name).reduce((s, a) => s + a.riskBudget, 0);
    expect(b.strategies.map((s) => [s.strategy, s.riskBudget])).toEqual([
      ['defensive', 2 / 3],
      ['cyclical', 1 / 3],
    ]);
    expect(share('defensive')).toBeCloseTo(2 / 3, 8);
    expect(share('cyclical')).toBeCloseTo(1 / 3, 8);
    expect(b.diagnostics.solverConverged).toBe(true);
    for (const s of b.strategies) {
      const gross = b.assets.filter((a) => a.strategy === s.strategy).reduce((t, a) => t + a.targetNotional, 0);
      expect(s.capital).toBeCloseTo(gross, 6);
      expect(s.maxGrossNotional).toBeGreaterThanOrEqual(gross);
    }
  });

  it('crisis is tighter than bull for every strategy limit too', () => {
    const [bull, crisis] = [run('bull'), run('crisis')];
    for (const s of crisis.strategies) {
      const b = bull.strategies.find((x) => x.strategy === s.strategy)!;
      expect(s.maxGrossNotional).toBeLessThan(b.maxGrossNotional);
      expect(s.maxNetNotional).toBeLessThan(b.maxNetNotional);
    }
  });

  it('no position exceeds max_position_share of the book, and limits never sit below targets', () => {
    for (const regime of ['bull', 'crisis']) {
      const b = budgetFor(regime);
      const share = config.regimes.find((r) => r.name === regime)!.maxPositionShare;
      for (const a of b.assets) {
        expect(a.targetWeight).toBeLessThanOrEqual(share + 1e-12);
        expect(a.maxPositionNotional).toBeGreaterThanOrEqual(a.targetNotional);
        expect(a.maxPositionNotional).toBeLessThanOrEqual(Math.max(share * b.limits.maxGrossNotional, a.targetNotional) + 1e-6);
      }
    }
  });

  it('drops an asset with too little history and says so', () => {
    const late = { ...window, series: window.series.map((s, j) => (j === 0 ? s.map((x, t) => (t < 110 ? Number.NaN : x)) : s)) };
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: late, regime: 'bull', config });
    expect(b.diagnostics.droppedAssets).toBe('AAPL');
    expect(b.assets.map((a) => a.asset)).not.toContain('AAPL');
    expectConsistent(b);
  });

  it('runs with every covariance estimator', () => {
    for (const estimator of ['sample', 'pairwise', 'ewma', 'ledoit-wolf', 'ledoit-wolf-cc']) {
      const b = buildRiskBudget({
        portfolioId: 'p1',
        asOf: 'x',
        prices: window,
        regime: 'bear',
        config: configWith({ covariance: { estimator } }),
      });
      expect(b.diagnostics.estimator).toBe(estimator);
      expectConsistent(b);
    }
  });

  it('budgets only the configured assets and names a configured asset without prices', () => {
    const withExtra = lastRows(readPriceFile(SP500), 127); // all 20 columns
    const b = buildRiskBudget({ portfolioId: 'p2', asOf: 'x', prices: withExtra, regime: 'bull', config: example });
    expect(new Set(b.assets.map((a) => a.asset))).toEqual(new Set(tickers));
    const missing = sliceTable(withExtra, { assets: tickers.filter((t) => t !== 'KO') });
    expect(() => buildRiskBudget({ portfolioId: 'p2', asOf: 'x', prices: missing, regime: 'bull', config: example })).toThrow(
      /no price column: KO/,
    );
  });

  it('budgets a single asset (no correlation to measure) and honours an explicit capital', () => {
    const one = sliceTable(window, { assets: ['KO'] });
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: one, regime: 'bear', config, capital: currency(2_000_000) });
    expectConsistent(b);
    expect(b.limits.capital).toBe(2_000_000);
    expect(b.assets).toHaveLength(1);
    expect(b.assets[0].targetWeight).toBe(1);
    expect(b.diagnostics.avgCorrelation).toBeUndefined();
    expect(b.diagnostics.correlationScaled).toBe(false);
    expect(JSON.parse(JSON.stringify(b))).toEqual(b); // plain JSON: no NaN or Infinity anywhere
  });

  it('a regime with equity_allocation 0 is all cash and every limit is 0', () => {
    const flat = configWith({ regime_allocations: regimesWith('crisis', { equity_allocation: 0 }) });
    const b = buildRiskBudget({ portfolioId: 'p1', asOf: 'x', prices: window, regime: 'crisis', config: flat });
    expectConsistent(b);
    expect(b.limits.cashWeight).toBe(1);
    expect(b.limits.maxGrossNotional).toBe(0);
    expect(b.assets.every((a) => a.maxPositionNotional === 0)).toBe(true);
    expect(b.strategies.every((s) => s.maxGrossNotional === 0)).toBe(true);
  });

  it('rejects an unknown regime with a ConfigError', () => {
    expect(() => budgetFor('euphoria')).toThrow(/no regime named "euphoria"/);
  });
});
