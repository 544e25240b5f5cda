/**
 * The HMM on real data: S&P 500 price index (skfolio dataset), daily log returns 2000-01-03 … 2022-12-28,
 * K = 2, default fit options. Measured on this data (seed 1, 5 restarts):
 *   calm: vol 10.9 %, mean +19.3 %/yr; turbulent: vol 30.7 %, mean −26.2 %/yr (log returns ×252);
 *   P(stay calm) 0.988, P(stay turbulent) 0.975.
 *   Share of days with filtered P(turbulent) > 0.5: Sep 2008–Mar 2009 99.3 %, Mar–Apr 2020 100 %.
 *   Lag of the filtered probability (trading days until P(turbulent) > 0.5):
 *     from 2020-02-20 (last close before the COVID sell-off): 2 days (2020-02-24, the first −3.4 % day);
 *     from 2008-09-15 (Lehman): 0 days — already turbulent since 2008-09-04 (the summer of 2008
 *       flickered around 0.5);
 *     from 2007-07-20 (start of the 2007 credit crunch sell-off): 4 days (2007-07-26).
 *   With hysteresis (threshold 0.6, 3-day dwell) the declared switch comes 2 days later (2020-02-26),
 *   and the number of regime switches over 2000–2022 falls from 328 (raw arg-max) to 110
 *   (threshold 0.7 / 5-day dwell: 70).
 * For comparison, the rule classifier (21-day realized vol vs the default max_vol thresholds
 * 16/24/36 %) reaches "bear" or worse 5 trading days after 2020-02-20 (2020-02-27) and "crisis" after 12,
 * and reaches "bear" 20 days after 2007-07-20; it switches 246 times over 2000–2022.
 * Bivariate HMM on [r_t, ln 21-day realized vol] (diagonal covariance): same 2-day COVID lag, and the
 * raw filtered arg-max switches 108 times instead of 328.
 */
import { sharedDataFile } from '../../../../lib/paths';
import { readPriceFile } from '../../../../market/csvPrices';
import { filterProbabilities } from '../../../../risk/regime/filter';
import { fitGaussianHmm } from '../../../../risk/regime/hmm';
import { applyHysteresis } from '../../../../risk/regime/hysteresis';
import { logReturns, regimeFeatureRows } from '../../../../risk/regime/features';
import { describeStates } from '../../../../risk/regime/states';
import { classifyByRule } from '../../../../risk/regime/rule';
import { sliceTable } from '../../../../risk/timeseries';
import { annualizedVol, periodsPerYear } from '../../../../risk/units';

const file = sharedDataFile('skfolio', 'sp500_index.csv.gz');
const table = sliceTable(readPriceFile(file), { start: '2000-01-01', end: '2022-12-31', assets: ['SP500'] });
const { returns, priceIndex } = logReturns(table.series[0]);
const dates = Array.from(priceIndex, (i) => table.dates[i]);
const fit = fitGaussianHmm(returns, { states: 2 });
const filtered = filterProbabilities(fit.model, returns);
const pTurbulent = filtered.map((p) => p[1]);

function shareTurbulent(from: string, to: string): number {
  const days = dates.map((d, t) => ({ d, p: pTurbulent[t] })).filter(({ d }) => d >= from && d <= to);
  return days.filter(({ p }) => p > 0.5).length / days.length;
}

/** Trading days from the first date ≥ `from` until the declared state is turbulent. */
function lagFrom(from: string, turbulent: (t: number) => boolean): { lag: number; date: string } {
  const start = dates.findIndex((d) => d >= from);
  let t = start;
  while (t < dates.length && !turbulent(t)) t++;
  return { lag: t - start, date: dates[t] };
}

const allPrices = readPriceFile(file);
const flips = (xs: ArrayLike<number>) => Array.from(xs).filter((x, i, a) => i > 0 && x !== a[i - 1]).length;

describe('HMM on the S&P 500 index, 2000–2022, K = 2', () => {
  it('finds a calm (~11 % vol) and a turbulent (~31 % vol) state, both persistent', () => {
    const [calm, turbulent] = describeStates(fit.model, periodsPerYear(252));
    expect(returns.length).toBe(5784);
    expect(calm.name).toBe('calm');
    expect(calm.volAnnual).toBeGreaterThan(0.08);
    expect(calm.volAnnual).toBeLessThan(0.14);
    expect(turbulent.volAnnual).toBeGreaterThan(0.25);
    expect(turbulent.volAnnual).toBeLessThan(0.4);
    expect(calm.meanAnnual).toBeGreaterThan(turbulent.meanAnnual);
    expect(fit.model.transition[0][0]).toBeGreaterThan(0.97);
    expect(fit.model.transition[1][1]).toBeGreaterThan(0.95);
  });

  it('places Sep 2008–Mar 2009 (99.3 %) and Mar–Apr 2020 (100 %) in the turbulent state by filtered probability', () => {
    expect(shareTurbulent('2008-09-01', '2009-03-31')).toBeGreaterThan(0.9);
    expect(shareTurbulent('2020-03-01', '2020-04-30')).toBeGreaterThan(0.9);
    // …and most of the quiet 2017 in the calm one.
    expect(shareTurbulent('2017-01-01', '2017-12-31')).toBeLessThan(0.1);
  });

  it('filtered probabilities lag the crises by only a few days: COVID 2 days, Lehman 0, 2007 credit crunch 4', () => {
    const raw = (t: number) => pTurbulent[t] > 0.5;
    expect(lagFrom('2020-02-20', raw)).toEqual({ lag: 2, date: '2020-02-24' });
    expect(lagFrom('2008-09-15', raw)).toEqual({ lag: 0, date: '2008-09-15' });
    expect(lagFrom('2007-07-20', raw)).toEqual({ lag: 4, date: '2007-07-26' });
    for (const from of ['2020-02-20', '2008-09-15', '2007-07-20']) expect(lagFrom(from, raw).lag).toBeLessThanOrEqual(5);
  });

  it('hysteresis (0.6, 3-day dwell) delays the COVID switch by 2 days and cuts switches by two thirds (328 → 110)', () => {
    const declared = applyHysteresis(filtered, { threshold: 0.6, minDwell: 3 });
    const raw = Int32Array.from(pTurbulent, (p) => (p > 0.5 ? 1 : 0));
    expect(lagFrom('2020-02-20', (t) => declared[t] === 1)).toEqual({ lag: 4, date: '2020-02-26' });
    expect(flips(raw)).toBe(328);
    expect(flips(declared)).toBe(110);
  });

  it('a bivariate HMM with ln 21-day realized vol keeps the 2-day COVID lag and switches 108 times, not 328', () => {
    const features = regimeFeatureRows(returns, { realizedVolWindow: 21 });
    const bivariate = fitGaussianHmm(features.rows, { states: 2, restarts: 3 });
    const p = filterProbabilities(bivariate.model, features.rows);
    const at = (t: number) => p[t - features.offset][1] > 0.5;
    expect(lagFrom('2020-02-20', at)).toEqual({ lag: 2, date: '2020-02-24' });
    expect(flips(Int32Array.from(p, (row) => (row[1] > 0.5 ? 1 : 0)))).toBe(108);
    // The turbulent state has the higher mean log realized vol.
    expect(bivariate.model.means[1][1]).toBeGreaterThan(bivariate.model.means[0][1]);
  });

  it('stays numerically stable on the whole file (1990–2022, 8312 observations, K = 4)', () => {
    const all = logReturns(allPrices.series[0]).returns;
    expect(all.length).toBe(8312);
    const f4 = fitGaussianHmm(all, { states: 4, restarts: 2 });
    expect(Number.isFinite(f4.logLikelihood)).toBe(true);
    const vols = describeStates(f4.model, periodsPerYear(252)).map((s) => s.volAnnual);
    expect([...vols].sort((a, b) => a - b)).toEqual(vols);
    const p = filterProbabilities(f4.model, all);
    expect(p.every((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12)).toBe(true);
  });

  it('the 21-day rule classifier lags the HMM filter: COVID "bear or worse" after 5 days (HMM 2), "crisis" after 12', () => {
    const prices = table.series[0];
    // The default config's max_vol thresholds, spelled out so this figure does not move with the config.
    const regimes = [0.16, 0.24, 0.36, Infinity].map((v, i) => ({
      name: ['bull', 'neutral', 'bear', 'crisis'][i],
      maxVol: annualizedVol(v),
    }));
    // Rule regime on each price date using prices up to that date only.
    const ruleAt = (day: number) =>
      classifyByRule(prices.subarray(0, day + 1), { regimes, volWindow: 21, periodsPerYear: periodsPerYear(252) }).index;
    const lagOnPrices = (from: string, atLeast: number) => {
      const start = table.dates.findIndex((d) => d >= from);
      let day = start;
      while (ruleAt(day) < atLeast) day++;
      return { lag: day - start, date: table.dates[day] };
    };
    expect(lagOnPrices('2020-02-20', 2)).toEqual({ lag: 5, date: '2020-02-27' });
    expect(lagOnPrices('2020-02-20', 3)).toEqual({ lag: 12, date: '2020-03-09' });
    expect(lagOnPrices('2007-07-20', 2)).toEqual({ lag: 20, date: '2007-08-17' });
    expect(lagFrom('2020-02-20', (t) => pTurbulent[t] > 0.5).lag).toBeLessThan(5);
  });
});
