import { type MarketCursor, type Strategy, periodCashReturn, simulate, valuationReturns } from '../../../backtest/simulator';
import type { PriceTable } from '../../../risk/timeseries';
import { fraction, periodsPerYear } from '../../../risk/units';

const dates = (n: number) => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10));
const table = (...series: number[][]): PriceTable => ({
  dates: dates(series[0].length),
  assets: series.map((_, i) => `A${i}`),
  series: series.map((s) => Float64Array.from(s)),
});
const settings = { costBps: 0, cashRate: fraction(0), periodsPerYear: periodsPerYear(252), firstDecisionDay: 0 };

/** Holds `target` from the first decision on, deciding only once. */
const buyAndHold = (target: number[]): Strategy => {
  let done = false;
  return {
    name: 'hold',
    decide: () => (done ? undefined : ((done = true), { weights: target })),
  };
};

describe('simulate', () => {
  it('executes at the next close: no P&L on the decision day, full P&L afterwards', () => {
    const t = table([100, 110, 121, 121]);
    const trace = simulate(t, buyAndHold([1]), settings);
    // Decided at day 0, bought at the close of day 1 (price 110): the 0→1 move is not earned.
    expect(Array.from(trace.nav)).toEqual([1, 1, 121 / 110, 121 / 110]);
    expect(trace.turnover[1]).toBe(1);
    expect(trace.decisions).toEqual([{ day: 0, label: undefined }]);
  });

  it('keeps a constant-price asset book flat and earns exactly the cash rate on the cash leg', () => {
    const t = table(Array(253).fill(50));
    const rate = fraction(0.05);
    const trace = simulate(t, buyAndHold([0.4]), { ...settings, cashRate: rate });
    const daily = periodCashReturn(rate, periodsPerYear(252));
    // Day 1: all cash earns one period, then the book holds 40 % in a flat asset; weights drift as cash grows.
    let cash = 0.6;
    let asset = 0.4;
    let nav = 1 + daily;
    for (let d = 2; d < 253; d++) {
      const growth = asset + cash * (1 + daily);
      nav *= growth;
      cash = (cash * (1 + daily)) / growth;
      asset /= growth;
    }
    expect(trace.nav[252]).toBeCloseTo(nav, 12);
    expect(trace.nav[252]).toBeCloseTo(1 + (Math.pow(1.05, 252 / 252) - 1) * 0.6, 3);
    expect(trace.gross[252]).toBeLessThan(0.4);
  });

  it('charges costs on traded notional at the execution close', () => {
    const t = table([10, 10, 10], [20, 20, 20]);
    const trace = simulate(t, buyAndHold([0.5, 0.5]), { ...settings, costBps: 10 });
    expect(trace.turnover[1]).toBe(1);
    expect(trace.cost[1]).toBeCloseTo(0.001, 15);
    expect(trace.nav[2]).toBeCloseTo(0.999, 15);
  });

  it('finances leverage at the cash rate', () => {
    const t = table([100, 100, 100]);
    const rate = fraction(0.1);
    const trace = simulate(t, buyAndHold([2]), { ...settings, cashRate: rate });
    const d = periodCashReturn(rate, periodsPerYear(252));
    // Day 2: asset flat, −1 of cash pays one period of interest.
    expect(trace.nav[2] / trace.nav[1]).toBeCloseTo(1 - d, 14);
  });

  it('values a gap from the last valid price, so the move is earned on the day the price reappears', () => {
    expect(Array.from(valuationReturns(Float64Array.from([NaN, 10, NaN, 12, 12])))).toEqual([0, 0, 0, 0.19999999999999996, 0]);
  });

  it('refuses targets on assets that have no price yet', () => {
    const t = table([1, 1, 1], [NaN, NaN, 1]);
    expect(() => simulate(t, buyAndHold([0.5, 0.5]), settings)).toThrow(/before its first price/);
  });

  it('refuses reads past the current day', () => {
    const t = table([1, 2, 3]);
    const peeking: Strategy = { name: 'peek', decide: (m: MarketCursor) => (m.dailyReturn(0, m.today + 1), undefined) };
    expect(() => simulate(t, peeking, settings)).toThrow(/look-ahead/);
  });
});
