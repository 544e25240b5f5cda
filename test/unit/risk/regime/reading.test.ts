import { DEFAULT_CONFIG_DOCUMENT, parseRiskConfig } from '../../../../risk/config';
import { trailingAnnualizedVol } from '../../../../risk/regime/features';
import { fitGaussianHmm } from '../../../../risk/regime/hmm';
import { regimeIndex } from '../../../../risk/regime/marketIndex';
import {
  LEAD_IN_ROWS,
  MAX_CATCH_UP_BARS,
  barsToRead,
  readRegimes,
  regimeProbabilities,
  regimeWindowRows,
  ruleReading,
} from '../../../../risk/regime/reading';
import { primedFilter, trainingReturns } from '../../../../risk/regime/walkForward';
import { seededRng } from '../../../../risk/random';
import { DataError, type PriceTable } from '../../../../risk/timeseries';

const config = parseRiskConfig({}); // rule, 21-day vol window, bull/neutral/bear/crisis at 16/24/36 % vol
const hmmConfig = parseRiskConfig({
  risk_budgeting: {
    regime_detection: { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting.regime_detection, method: 'hmm', states: 2, restarts: 1 },
  },
});

/** A seeded panel of `assets` random walks with daily vol `vol` (a second vol from row `switchAt` on). */
function panel(rows: number, assets: number, vol: number, seed = 1, after?: { switchAt: number; vol: number }): PriceTable {
  const rng = seededRng(seed);
  const series = Array.from({ length: assets }, () => {
    const s = new Float64Array(rows);
    s[0] = 100;
    for (let t = 1; t < rows; t++) s[t] = s[t - 1] * Math.exp((after && t >= after.switchAt ? after.vol : vol) * rng.normal());
    return s;
  });
  return { dates: Array.from({ length: rows }, (_, t) => `r${t}`), assets: series.map((_, i) => `A${i}`), series };
}

describe('the rule reading', () => {
  it('reads one-hot probabilities over the regimes from the realized vol of the index', () => {
    const quiet = panel(30, 3, 0.004);
    const r = ruleReading(regimeIndex(quiet).levels, 29, config);
    expect(r.probabilities).toEqual([1, 0, 0, 0]);
    const wild = panel(30, 3, 0.05);
    expect(ruleReading(regimeIndex(wild).levels, 29, config).probabilities).toEqual([0, 0, 0, 1]);
  });

  it('does not stall when one asset misses 2 of the last 23 rows (two holidays of its exchange)', () => {
    // Before: the window was exactly vol_window + 2 = 23 rows and rows with any gap were dropped, so the
    // vol window had 20 returns: "need 21 returns for the volatility window, have 20", every cycle.
    const prices = panel(23, 3, 0.01);
    prices.series[1][10] = Number.NaN;
    prices.series[1][11] = Number.NaN;
    const [reading] = readRegimes({ prices, lastBar: 22, bars: [22], config });
    const index = regimeIndex(prices);
    const returns = Array.from(index.logReturns).filter(Number.isFinite);
    expect(returns).toHaveLength(22);
    expect(reading.realizedVol).toBeCloseTo(trailingAnnualizedVol(returns, 21, config.periodsPerYear), 12);
    expect(reading).toMatchObject({ method: 'rule', bar: 22, regimes: ['bull', 'neutral', 'bear', 'crisis'] });
  });

  it('says why when the index has too little history for the rule', () => {
    const prices = panel(15, 2, 0.01);
    expect(() => readRegimes({ prices, lastBar: 14, bars: [14], config })).toThrow(
      new DataError('the regime index has 15 observed prices up to this bar; the rule needs 22'),
    );
  });
});

describe('which bars a cycle reads', () => {
  it('reads the latest bar only on a first cycle, every bar since the last one tracked after that, at most a bounded number', () => {
    expect(barsToRead(null, 100)).toEqual([100]);
    expect(barsToRead(100, 100)).toEqual([100]);
    expect(barsToRead(97, 100)).toEqual([98, 99, 100]);
    const caughtUp = barsToRead(0, 1_000);
    expect(caughtUp).toHaveLength(MAX_CATCH_UP_BARS);
    expect(caughtUp[caughtUp.length - 1]).toBe(1_000);
  });

  it('asks for enough rows to read every such bar with a lead-in before its history', () => {
    expect(regimeWindowRows(config)).toBe(MAX_CATCH_UP_BARS + 22 + LEAD_IN_ROWS);
    expect(regimeWindowRows(hmmConfig)).toBe(MAX_CATCH_UP_BARS + 21 + 756 + LEAD_IN_ROWS);
  });

  it('leaves out an earlier bar without enough history, and reads the rest', () => {
    const prices = panel(24, 2, 0.01);
    const readings = readRegimes({ prices, lastBar: 23, bars: [20, 21, 22, 23], config });
    expect(readings.map((r) => r.bar)).toEqual([21, 22, 23]); // 22 observed levels from row 21 on
  });
});

describe('the HMM reading', () => {
  it('is the walk-forward filter of the model refitted at the bar’s anchor, summed per regime', () => {
    const prices = panel(400, 3, 0.006, 7, { switchAt: 300, vol: 0.03 });
    const fits: number[] = [];
    const [reading] = readRegimes({
      prices,
      lastBar: 1_399, // the table's rows are bars 1000..1399
      bars: [1_399],
      config: hmmConfig,
      model: (anchor, training) => {
        fits.push(anchor);
        return fitGaussianHmm(training, { states: 2, restarts: 1, seed: 1 }).model;
      },
    });
    expect(fits).toEqual([1_386]); // 66 × 21
    const { logReturns } = regimeIndex(prices);
    const t = 399;
    const r = 386;
    const training = trainingReturns(logReturns, r, { kind: 'rolling', days: 756 });
    const filter = primedFilter(fitGaussianHmm(training, { states: 2, restarts: 1, seed: 1 }).model, training);
    let states: ArrayLike<number> = [];
    for (let i = r; i <= t; i++) states = filter.step(logReturns[i]);
    expect(reading.probabilities).toEqual(regimeProbabilities(states, ['bull', 'neutral', 'bear', 'crisis']));
    expect(reading.probabilities[3]).toBeGreaterThan(0.9); // the turbulent state is named crisis
  });
});
