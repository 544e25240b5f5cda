import { alignedReturns, lastObservations, periodReturns, selectAssets } from '../../../risk/returns';
import type { PriceTable } from '../../../risk/timeseries';

const table: PriceTable = {
  dates: ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'],
  assets: ['SPX', 'DAX', 'NEW'],
  series: [
    Float64Array.from([100, 101, 102.01, 100, 110]),
    // DAX closed on the 3rd (holiday): NaN, not a repeated price.
    Float64Array.from([50, 55, NaN, 60.5, 60.5]),
    // NEW lists on the 4th.
    Float64Array.from([NaN, NaN, NaN, 10, 11]),
  ],
};

describe('period returns', () => {
  it("computes simple and log returns on each asset's own calendar, NaN across a gap", () => {
    const simple = periodReturns(table, 'simple');
    expect(simple.dates).toEqual(table.dates.slice(1));
    expect(simple.columns[0][0]).toBeCloseTo(0.01, 15);
    expect(simple.columns[0][1]).toBeCloseTo(0.01, 15);
    expect(Number.isNaN(simple.columns[1][1])).toBe(true);
    expect(Number.isNaN(simple.columns[1][2])).toBe(true);
    expect(simple.columns[1][3]).toBe(0);
    expect(Number.isNaN(simple.columns[2][2])).toBe(true);
    expect(simple.columns[2][3]).toBeCloseTo(0.1, 15);
    const log = periodReturns(table, 'log');
    expect(log.columns[0][0]).toBeCloseTo(Math.log(1.01), 15);
  });
});

describe('aligned returns on the common calendar', () => {
  it('drops assets with too little history and reports them', () => {
    const { returns, dropped } = alignedReturns(table, { minHistory: 3 });
    expect(returns.assets).toEqual(['SPX', 'DAX']);
    expect(dropped).toEqual([{ asset: 'NEW', prices: 2, reason: 'has 2 prices, fewer than the required 3' }]);
  });

  it('skips a date one market was closed instead of inventing a zero return', () => {
    const { returns } = alignedReturns(table, { minHistory: 3 });
    // Common dates: 1st, 2nd, 4th, 5th. The return to the 4th spans the DAX holiday (two SPX sessions).
    expect(returns.dates).toEqual(['2024-01-02', '2024-01-04', '2024-01-05']);
    expect(returns.columns[0][1]).toBeCloseTo(100 / 101 - 1, 15);
    expect(returns.columns[1][1]).toBeCloseTo(60.5 / 55 - 1, 15);
    expect(returns.columns[1][2]).toBe(0);
  });

  it('shortens the window to the late listing when the late asset is kept', () => {
    const { returns, dropped } = alignedReturns(table, { minHistory: 2, minObservations: 1 });
    expect(dropped).toEqual([]);
    expect(returns.dates).toEqual(['2024-01-05']);
    expect(() => alignedReturns(table, { minHistory: 2, minObservations: 2 })).toThrow(
      /only 1 returns on dates where all 3 assets have prices/,
    );
  });

  it('selects and windows the result', () => {
    const { returns } = alignedReturns(table, { minHistory: 3 });
    expect(lastObservations(returns, 2).dates).toEqual(['2024-01-04', '2024-01-05']);
    expect(selectAssets(returns, ['DAX']).columns[0]).toBe(returns.columns[1]);
    expect(() => selectAssets(returns, ['XXX'])).toThrow(/unknown asset "XXX"/);
  });
});
