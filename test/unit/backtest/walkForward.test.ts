/**
 * Walk-forward behaviour of the whole backtest on synthetic prices: decisions never depend on later
 * prices, and a series with an obvious regime change gets the obvious answer.
 */
import { runBacktest, type BacktestSettings } from '../../../backtest/run';
import { productionTriggerCheck } from '../../../backtest/triggers';
import { defaultRiskConfig } from '../../../risk/config';
import { seededRng } from '../../../risk/random';
import type { PriceTable } from '../../../risk/timeseries';
import { fraction, periodsPerYear } from '../../../risk/units';

/** Business-day dates from 2000-01-03. */
function businessDates(n: number): string[] {
  const out: string[] = [];
  for (let d = Date.UTC(2000, 0, 3); out.length < n; d += 86_400_000) {
    const day = new Date(d).getUTCDay();
    if (day !== 0 && day !== 6) out.push(new Date(d).toISOString().slice(0, 10));
  }
  return out;
}

/** Correlated assets with annualized vol `volAt(t)` and a small positive drift. */
function syntheticTable(days: number, assets: number, volAt: (t: number) => number, seed = 7): PriceTable {
  const rng = seededRng(seed);
  const series = Array.from({ length: assets }, () => new Float64Array(days));
  const level = new Array<number>(assets).fill(100);
  for (let t = 0; t < days; t++) {
    const daily = volAt(t) / Math.sqrt(252);
    const common = rng.normal();
    for (let i = 0; i < assets; i++) {
      if (t > 0) level[i] *= Math.exp(0.0003 + daily * (0.6 * common + 0.8 * rng.normal()));
      series[i][t] = level[i];
    }
  }
  return { dates: businessDates(days), assets: Array.from({ length: assets }, (_, i) => `S${i}`), series };
}

function settings(overrides: Partial<BacktestSettings> = {}): BacktestSettings {
  const config = defaultRiskConfig();
  return {
    config,
    costBps: 5,
    cashRate: fraction(0.02),
    periodsPerYear: periodsPerYear(252),
    rebalance: 'calendar',
    calendarPeriod: 'weekly',
    regimeDetector: 'hmm',
    hmm: { refitYears: 1, window: { kind: 'expanding' }, minTrainingDays: 300, restarts: 1, maxIterations: 100, tolerance: 1e-4, seed: 1 },
    ...overrides,
  };
}

describe('walk-forward backtest', () => {
  it.each(['calendar', 'trigger'] as const)(
    'never changes a %s decision at or before day t when prices after t change (look-ahead guard)',
    (rebalance) => {
      const table = syntheticTable(900, 4, (t) => (t > 600 && t < 700 ? 0.5 : 0.15));
      const cut = 650;
      const perturbed: PriceTable = {
        ...table,
        series: table.series.map((s, i) => Float64Array.from(s, (p, t) => (t > cut ? p * (1 + 0.3 * Math.sin(t * (i + 1))) : p))),
      };
      const options = settings({ rebalance, triggerCheck: productionTriggerCheck });
      const a = runBacktest(table, options);
      const b = runBacktest(perturbed, options);
      const upTo = <T extends { day: number }>(xs: readonly T[]) => xs.filter((x) => x.day <= cut);
      expect(upTo(b.dynamicStrategy.budgets)).toEqual(upTo(a.dynamicStrategy.budgets));
      expect(b.dynamicStrategy.readings.slice(0, cut + 1)).toEqual(a.dynamicStrategy.readings.slice(0, cut + 1));
      for (const name of ['equal-weight', 'static-erc', 'vol-target', 'dynamic'] as const) {
        expect(upTo(b.traces[name].decisions)).toEqual(upTo(a.traces[name].decisions));
        expect(Array.from(b.traces[name].nav.subarray(0, cut + 1))).toEqual(Array.from(a.traces[name].nav.subarray(0, cut + 1)));
      }
      // And the perturbation did matter afterwards, so the comparison above is not vacuous.
      expect(b.dynamicStrategy.budgets.length).toBeGreaterThan(upTo(a.dynamicStrategy.budgets).length);
      expect(b.traces.dynamic.nav[899]).not.toEqual(a.traces.dynamic.nav[899]);
    },
  );

  it('de-risks within days of an obvious switch from a calm to a turbulent regime, and loses less', () => {
    // Calm (12 % vol) with two storms (70 % vol, falling prices). The yearly refit before the second storm
    // has seen the first one, so the HMM knows both regimes; the second storm is the out-of-sample test.
    const storms = [
      [500, 620],
      [900, 1020],
    ];
    const inStorm = (t: number) => storms.some(([a, b]) => t >= a && t < b);
    const table = syntheticTable(1150, 4, (t) => (inStorm(t) ? 0.7 : 0.12), 11);
    for (const s of table.series) {
      let drift = 1;
      for (let t = 0; t < s.length; t++) {
        if (inStorm(t)) drift *= Math.exp(-0.005);
        s[t] *= drift;
      }
    }
    const result = runBacktest(table, settings({ calendarPeriod: 'weekly' }));
    const dyn = result.dynamicStrategy;
    const turbulent = (t: number) => ['bear', 'crisis'].includes(dyn.readings[t]?.regime ?? '');
    const [start, end] = storms[1];
    // Declared regime (after the 3-day hysteresis) turns turbulent within a few days of the storm.
    let first = start;
    while (first < end && !turbulent(first)) first++;
    expect(first - start).toBeLessThanOrEqual(10);
    // ... and is calm-side over the quiet stretch before it, once the yearly refit (day 782, the first
    // trading day of 2003) has seen a whole storm. (Before that refit the model, fitted while the first
    // storm was still under way, has never seen it end and stays "crisis" for months: a real limitation.)
    expect(result.hmmRefits.map((r) => r.day)).toContain(782);
    for (let t = 790; t < start; t++) expect(turbulent(t)).toBe(false);
    // Exposure during the storm (after the next weekly rebalance) is far below full investment.
    const grossInStorm = Array.from(result.traces.dynamic.gross.subarray(start + 15, end));
    expect(Math.max(...grossInStorm)).toBeLessThan(0.5);
    const stormLoss = (name: 'dynamic' | 'equal-weight') => result.traces[name].nav[end] / result.traces[name].nav[start] - 1;
    expect(stormLoss('equal-weight')).toBeLessThan(-0.15);
    expect(stormLoss('dynamic')).toBeGreaterThan(stormLoss('equal-weight') / 3);
    expect(result.full.drawdownReduction['equal-weight']).toBeGreaterThan(0.5);
  });

  it("matches the static book to the dynamic book's realized volatility", () => {
    const table = syntheticTable(800, 3, (t) => (t > 500 && t < 560 ? 0.45 : 0.15), 3);
    const result = runBacktest(table, settings());
    const full = result.full.strategies;
    expect(full['static-erc-vol-matched'].volAnnual).toBeCloseTo(full.dynamic.volAnnual, 3);
    expect(result.volMatchScale).toBeGreaterThan(0);
    expect(result.volMatchScale).toBeLessThan(1);
  });
});
