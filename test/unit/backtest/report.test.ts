/** The result file's shape (the contract other tools read), the report and the charts. */
import { chartSpecs } from '../../../backtest/charts';
import { markdownReport, resultJson, summaryTable } from '../../../backtest/report';
import { runBacktest, STRATEGY_NAMES, type BacktestSettings } from '../../../backtest/run';
import { defaultRiskConfig } from '../../../risk/config';
import { seededRng } from '../../../risk/random';
import type { PriceTable } from '../../../risk/timeseries';
import { fraction, periodsPerYear } from '../../../risk/units';

function table(days: number): PriceTable {
  const rng = seededRng(5);
  const dates: string[] = [];
  for (let d = Date.UTC(2001, 0, 1); dates.length < days; d += 86_400_000) {
    if (![0, 6].includes(new Date(d).getUTCDay())) dates.push(new Date(d).toISOString().slice(0, 10));
  }
  const series = [0, 1, 2].map((i) => {
    let p = 50 + i;
    return Float64Array.from(dates, (_, t) => (p *= Math.exp(0.0002 + (t % 300 < 40 ? 0.03 : 0.008) * rng.normal())));
  });
  // A late listing: the third asset has no prices for its first 200 days.
  series[2].fill(Number.NaN, 0, 200);
  return { dates, assets: ['A', 'B', 'C'], series };
}

const settings: BacktestSettings = {
  config: defaultRiskConfig(),
  costBps: 5,
  cashRate: fraction(0.02),
  periodsPerYear: periodsPerYear(252),
  rebalance: 'calendar',
  calendarPeriod: 'monthly',
  regimeDetector: 'rule',
  hmm: { refitYears: 1, window: { kind: 'expanding' }, minTrainingDays: 300, restarts: 1, maxIterations: 50, tolerance: 1e-4, seed: 1 },
};

describe('backtest report', () => {
  const prices = table(900);
  const result = runBacktest(prices, settings);
  const meta = { command: 'ballast backtest --prices x.csv', pricesPath: 'x.csv', table: prices, settings, elapsedSeconds: 1 };

  it('writes every strategy with the documented metrics, and the dynamic extras', () => {
    const json = JSON.parse(JSON.stringify(resultJson(result, meta)));
    expect(Object.keys(json.strategies)).toEqual([...STRATEGY_NAMES]);
    for (const name of STRATEGY_NAMES) {
      const m = json.strategies[name];
      for (const key of [
        'cagr',
        'volAnnual',
        'sharpe',
        'sortino',
        'maxDrawdown',
        'maxDrawdownStart',
        'maxDrawdownEnd',
        'calmar',
        'turnoverAnnual',
        'avgGrossExposure',
        'capitalEfficiency',
      ]) {
        expect(m).toHaveProperty(key);
      }
      expect(m.maxDrawdown).toBeLessThanOrEqual(0);
      expect(m.maxDrawdownStart <= m.maxDrawdownEnd).toBe(true);
    }
    expect(typeof json.strategies.dynamic.regimeSwitches).toBe('number');
    expect(json.strategies.dynamic).toHaveProperty('responseTimesDays');
    expect(json.strategies['equal-weight']).not.toHaveProperty('regimeSwitches');
    expect(json.definitions.capitalEfficiency).toMatch(/excess return/);
    expect(json.outOfSample.start > json.evaluation.start).toBe(true);
  });

  it('starts every book at the common evaluation start and stays fully invested through a late listing', () => {
    const firstEligible = 200 + settings.config.lookbackDays;
    for (const name of STRATEGY_NAMES) {
      const trace = result.traces[name];
      for (const d of trace.decisions) expect(d.day).toBeGreaterThanOrEqual(result.evaluationStartDay);
      // Decided at the evaluation start, invested at the next close, whatever the calendar says.
      expect(trace.decisions[0].day).toBe(result.evaluationStartDay);
      expect(trace.gross[result.evaluationStartDay]).toBe(0);
      expect(trace.gross[result.evaluationStartDay + 1]).toBeGreaterThan(0);
    }
    // C is listed after the evaluation starts (the simulator throws on a position before an asset's first
    // price); equal weight is fully invested before and after C joins.
    expect(result.evaluationStartDay).toBeLessThan(firstEligible);
    expect(result.traces['equal-weight'].gross[firstEligible - 1]).toBeCloseTo(1, 2);
    expect(result.traces['equal-weight'].gross[firstEligible + 60]).toBeCloseTo(1, 2);
  });

  it('renders the table and the Markdown with the baselines named', () => {
    expect(summaryTable(result)).toMatch(/dynamic max-drawdown reduction vs: equal-weight/);
    const md = markdownReport(result, meta, [{ file: 'equity.svg', title: 'Equity' }]);
    expect(md).toContain('node bin/ballast.js backtest --prices x.csv');
    expect(md).toContain('![Equity](equity.svg)');
    expect(md).toMatch(/## Out-of-sample period/);
  });
});

describe('chart specs', () => {
  it('builds the four vega-lite charts from the run, equity on a log scale, crises as shaded spans', () => {
    const prices = table(700);
    const result = runBacktest(prices, settings);
    const charts = chartSpecs(result, prices.dates, 'test');
    expect(charts.map((c) => c.file)).toEqual(['equity.svg', 'drawdown.svg', 'exposure.svg', 'regimes.svg']);
    const equity = charts[0].spec as {
      layer: { data: { values: { date: string; strategy: string; value: number }[] }; encoding?: { y?: { scale?: { type?: string } } } }[];
    };
    const lines = equity.layer[1];
    expect(lines.encoding?.y?.scale?.type).toBe('log');
    // Every strategy starts at 1 on the first holding day and ends on the last date.
    for (const name of STRATEGY_NAMES) {
      const rows = lines.data.values.filter((r) => r.strategy === name);
      expect(rows[0].date).toBe(prices.dates[result.evaluationStartDay + 1]);
      expect(rows[rows.length - 1].date).toBe(prices.dates[prices.dates.length - 1]);
    }
    // The synthetic dates (2001–2003) overlap the dot-com bear, clipped to the evaluation window.
    const crises = (equity.layer[0] as unknown as { data: { values: { name: string; start: string }[] } }).data.values;
    expect(crises.map((c) => c.name)).toEqual(['Dot-com 2000-02']);
    expect(crises[0].start).toBe(prices.dates[result.evaluationStartDay + 1]);
    const drawdown = charts[1].spec as typeof equity;
    expect(Math.max(...drawdown.layer[1].data.values.map((r) => r.value))).toBeLessThanOrEqual(0);
  });
});
