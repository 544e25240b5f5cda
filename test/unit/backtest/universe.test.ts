import { simulate, type MarketCursor, type Strategy } from '../../../backtest/simulator';
import { configuredAssets, eligibleUniverse, pointInTimeConfig } from '../../../backtest/universe';
import { defaultRiskConfig, type RiskConfig } from '../../../risk/config';
import type { PriceTable } from '../../../risk/timeseries';
import { fraction, periodsPerYear } from '../../../risk/units';

const days = 40;
const table: PriceTable = {
  dates: Array.from({ length: days }, (_, i) => new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10)),
  assets: ['OLD', 'NEW', 'GAP', 'OTHER'],
  series: [
    Float64Array.from({ length: days }, (_, t) => 100 + t),
    Float64Array.from({ length: days }, (_, t) => (t < 25 ? NaN : 50 + t)), // listed on day 25
    Float64Array.from({ length: days }, (_, t) => (t === 30 ? NaN : 10 + t)), // one missing close
    Float64Array.from({ length: days }, (_, t) => 5 + t),
  ],
};

/** Runs `probe` at every close and records what it returns. */
function atEachClose<T>(probe: (m: MarketCursor) => T): T[] {
  const seen: T[] = [];
  const strategy: Strategy = { name: 'probe', decide: (m) => (seen.push(probe(m)), undefined) };
  simulate(table, strategy, { costBps: 0, cashRate: fraction(0), periodsPerYear: periodsPerYear(252), firstDecisionDay: 0 });
  return seen;
}

describe('eligible universe', () => {
  it('admits an asset once it has a full estimation window and a price today', () => {
    const names = atEachClose((m) => eligibleUniverse(m, 10).window.assets.join(','));
    expect(names[9]).toBe('');
    expect(names[10]).toBe('OLD,GAP,OTHER');
    expect(names[30]).toBe('OLD,OTHER'); // GAP has no close that day
    expect(names[34]).toBe('OLD,GAP,OTHER'); // NEW has 9 returns
    expect(names[35]).toBe('OLD,NEW,GAP,OTHER');
  });

  it('restricts to the configured strategies and drops strategies with nothing eligible yet', () => {
    const base = defaultRiskConfig();
    const config: RiskConfig = {
      ...base,
      lookbackDays: 10,
      strategies: [
        { name: 'core', riskBudget: fraction(0.6), assets: ['OLD', 'GAP'] },
        { name: 'new', riskBudget: fraction(0.4), assets: ['NEW'] },
      ],
    };
    const allowed = configuredAssets(config);
    const [early, late] = atEachClose((m) => pointInTimeConfig(config, eligibleUniverse(m, 10, allowed))).filter(
      (_, t) => t === 20 || t === 36,
    );
    expect(early.strategies).toEqual([{ name: 'core', riskBudget: 1, assets: ['OLD', 'GAP'] }]);
    expect(late).toBe(config);
  });
});
