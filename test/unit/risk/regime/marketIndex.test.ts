import { RegimeIndexBuilder, regimeIndex } from '../../../../risk/regime/marketIndex';
import { DataError, type PriceTable } from '../../../../risk/timeseries';

const N = Number.NaN;
const table = (columns: Record<string, number[]>): PriceTable => {
  const assets = Object.keys(columns);
  const rows = columns[assets[0]].length;
  return { dates: Array.from({ length: rows }, (_, t) => `d${t}`), assets, series: assets.map((a) => Float64Array.from(columns[a])) };
};

describe('the regime index', () => {
  it('is an equal-weighted book rebalanced every row: the average of the assets’ returns', () => {
    const { levels, logReturns } = regimeIndex(table({ A: [100, 110, 99], B: [50, 50, 55] }));
    expect(levels[0]).toBe(1);
    expect(levels[1]).toBeCloseTo(1.05, 12); // (+10 % + 0 %) / 2
    expect(levels[2]).toBeCloseTo(1.05 * (1 + (-0.1 + 0.1) / 2), 12);
    expect(logReturns[0]).toBeNaN();
    expect(logReturns[1]).toBeCloseTo(Math.log(1.05), 12);
  });

  it('a holiday of one asset: no move that row, its whole move over the gap with its next price', () => {
    const { levels, logReturns } = regimeIndex(table({ A: [100, N, 121], B: [100, 101, 102.01] }));
    expect(levels[1]).toBeCloseTo(1.005, 12); // B +1 %, A closed: (0 + 1 %) / 2
    expect(levels[2]).toBeCloseTo(1.005 * (1 + (0.21 + 0.01) / 2), 12); // A's +21 % over two rows arrives at once
    expect(Number.isFinite(logReturns[1]) && Number.isFinite(logReturns[2])).toBe(true);
  });

  it('a late listing joins the average from the row after its first price', () => {
    const { levels } = regimeIndex(table({ A: [100, 110, 121], B: [N, 50, 60] }));
    expect(levels[1]).toBeCloseTo(1.1, 12); // only A was listed before row 1
    expect(levels[2]).toBeCloseTo(1.1 * (1 + (0.1 + 0.2) / 2), 12);
  });

  it('a row on which no listed asset traded is no observation, and the next return spans it', () => {
    const { levels, logReturns } = regimeIndex(table({ A: [100, N, 110], B: [100, N, 100] }));
    expect(levels[1]).toBeNaN();
    expect(logReturns[1]).toBeNaN();
    expect(levels[2]).toBeCloseTo(1.05, 12);
  });

  it('has no level before the first price of any asset', () => {
    const { levels } = regimeIndex(table({ A: [N, N, 100, 101], B: [N, N, N, 10] }));
    expect(Array.from(levels.subarray(0, 2))).toEqual([N, N]);
    expect(levels[2]).toBe(1);
    expect(levels[3]).toBeCloseTo(1.01, 12);
  });

  it('can follow one named column, and names the columns when that one is missing', () => {
    const t = table({ A: [100, 110], B: [100, 200] });
    expect(regimeIndex(t, 'B').levels[1]).toBeCloseTo(2, 12);
    expect(() => regimeIndex(t, 'SPX')).toThrow(new DataError('regime index "SPX" is not a column of the price file (have: A, B)'));
  });

  it('gives the same path row by row as over the whole panel (the backtest advances it day by day)', () => {
    const t = table({ A: [100, N, 121, 120, N], B: [N, 50, 51, N, 52] });
    const builder = new RegimeIndexBuilder(2);
    const stepped = t.dates.map((_, r) => builder.step([t.series[0][r], t.series[1][r]]).level);
    expect(stepped).toEqual(Array.from(regimeIndex(t).levels));
  });
});
