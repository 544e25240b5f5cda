import { logReturns, regimeFeatureRows, trailingDailyVol, trailingMean } from '../../../../risk/regime/features';
import { DataError } from '../../../../risk/timeseries';

describe('regime features', () => {
  it('log returns skip missing prices and remember which price closes each return', () => {
    const { returns, priceIndex } = logReturns([100, 110, Number.NaN, 121, 121]);
    expect(Array.from(returns)).toEqual([Math.log(1.1), Math.log(1.1), 0]);
    expect(Array.from(priceIndex)).toEqual([1, 3, 4]);
    expect(() => logReturns([100, -1])).toThrow(DataError);
  });

  it('trailing vol and mean use only the last window (hand-checked)', () => {
    // last 3 of [9, 1, 2, 3]: mean 2, squared deviations 1 + 0 + 1, sample variance 1.
    expect(trailingDailyVol([9, 1, 2, 3], 3)).toBeCloseTo(1, 14);
    expect(trailingMean([9, 1, Number.NaN, 2, 3], 3)).toBeCloseTo(2, 14);
    expect(trailingMean([1, 2], 3)).toBeNaN();
  });

  it('builds [r, ln realized vol, ln implied vol] rows without look-ahead', () => {
    const r = [0.01, -0.01, 0.03, -0.01, 0.02];
    const iv = [0.2, 0.25, 0.3, 0, 0.4];
    const { rows, offset } = regimeFeatureRows(r, { realizedVolWindow: 3, impliedVol: iv });
    expect(offset).toBe(2);
    expect(rows).toHaveLength(3);
    // Day 2: window r[0..2] = 0.01, −0.01, 0.03 → mean 0.01, deviations 0, −0.02, 0.02 → variance 0.0004.
    expect(rows[0][0]).toBe(0.03);
    expect(rows[0][1]).toBeCloseTo(Math.log(0.02), 12);
    expect(rows[0][2]).toBeCloseTo(Math.log(0.3), 14);
    expect(rows[1][2]).toBeNaN(); // a non-positive implied vol is a missing value
    // Changing a later return leaves earlier rows untouched.
    const later = regimeFeatureRows([...r.slice(0, 4), 0.5], { realizedVolWindow: 3, impliedVol: iv });
    expect(later.rows.slice(0, 2)).toEqual(rows.slice(0, 2));
  });

  it('returns-only rows when no extra feature is requested; rejects misaligned implied vol', () => {
    expect(regimeFeatureRows([0.01, 0.02])).toEqual({ rows: [[0.01], [0.02]], offset: 0 });
    expect(() => regimeFeatureRows([0.01, 0.02], { impliedVol: [0.2] })).toThrow(DataError);
  });
});
