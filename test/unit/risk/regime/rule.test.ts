import { ConfigError } from '../../../../risk/config';
import { classifyByRule, type RuleRegime } from '../../../../risk/regime/rule';
import { DataError } from '../../../../risk/timeseries';
import { annualizedVol, periodsPerYear } from '../../../../risk/units';

const P252 = periodsPerYear(252);
// Thresholds of the default config, calm → turbulent.
const regimes: RuleRegime[] = [
  { name: 'bull', maxVol: annualizedVol(0.16) },
  { name: 'neutral', maxVol: annualizedVol(0.24) },
  { name: 'bear', maxVol: annualizedVol(0.36) },
  { name: 'crisis', maxVol: annualizedVol(Number.POSITIVE_INFINITY) },
];

/** Prices whose daily log returns are exactly `returns`, starting at 100. */
function pricesFromLogReturns(returns: number[]): number[] {
  const prices = [100];
  for (const r of returns) prices.push(prices[prices.length - 1] * Math.exp(r));
  return prices;
}

describe('classifyByRule', () => {
  it('zero realized vol (constant drift) is the calmest regime', () => {
    const c = classifyByRule(pricesFromLogReturns([0.001, 0.001, 0.001, 0.001, 0.001]), { regimes, volWindow: 4, periodsPerYear: P252 });
    expect(c.regime).toBe('bull');
    expect(c.realizedVol).toBeCloseTo(0, 12);
  });

  it('alternating ±a returns over a 4-day window: vol = a·2/√3·√252 (hand-checked)', () => {
    // returns +a −a +a −a: mean 0, sum of squares 4a², sample variance 4a²/3.
    const a = 0.01;
    const c = classifyByRule(pricesFromLogReturns([0.05, a, -a, a, -a]), { regimes, volWindow: 4, periodsPerYear: P252 });
    expect(c.realizedVol).toBeCloseTo(((a * 2) / Math.sqrt(3)) * Math.sqrt(252), 10); // 0.18330
    expect(c.regime).toBe('neutral'); // 0.16 < 0.1833 <= 0.24
  });

  it('only the trailing window matters; thresholds split just below / just above maxVol', () => {
    // ±a with a chosen so the annualized vol is 0.24 × (1 ∓ 1e-9), either side of neutral's max_vol.
    const alternating = (vol: number) => {
      const a = (vol / Math.sqrt(252)) * (Math.sqrt(3) / 2);
      return pricesFromLogReturns([0.2, -0.2, a, -a, a, -a]);
    };
    const below = classifyByRule(alternating(0.24 * (1 - 1e-9)), { regimes, volWindow: 4, periodsPerYear: P252 });
    expect(below.realizedVol).toBeCloseTo(0.24, 8);
    expect(below.regime).toBe('neutral');
    expect(classifyByRule(alternating(0.24 * (1 + 1e-9)), { regimes, volWindow: 4, periodsPerYear: P252 }).regime).toBe('bear');
    // A 6-day window reaches back into the ±20 % days.
    expect(classifyByRule(alternating(0.24), { regimes, volWindow: 6, periodsPerYear: P252 }).regime).toBe('crisis');
  });

  it('vol above every finite threshold falls into the last regime', () => {
    const finite = regimes.slice(0, 3);
    const c = classifyByRule(pricesFromLogReturns([0.05, -0.05, 0.05, -0.05]), { regimes: finite, volWindow: 4, periodsPerYear: P252 });
    expect(c.regime).toBe('bear');
    expect(c.index).toBe(2);
  });

  it('trend filter: a quiet steady decline is raised to at least bear', () => {
    const prices = pricesFromLogReturns(Array(10).fill(-0.002));
    const opts = { regimes, volWindow: 5, periodsPerYear: P252 };
    expect(classifyByRule(prices, opts).regime).toBe('bull');
    const c = classifyByRule(prices, { ...opts, trend: { window: 5, atLeast: 'bear' } });
    expect(c.belowTrend).toBe(true);
    expect(c.regime).toBe('bear');
  });

  it('trend filter never lowers a more turbulent regime, and is inactive above the average', () => {
    const rising = pricesFromLogReturns(Array(10).fill(0.002));
    const up = classifyByRule(rising, { regimes, volWindow: 5, periodsPerYear: P252, trend: { window: 5, atLeast: 'bear' } });
    expect(up.belowTrend).toBe(false);
    expect(up.regime).toBe('bull');
    const wild = pricesFromLogReturns([0.1, -0.1, 0.1, -0.1, -0.1]);
    const down = classifyByRule(wild, { regimes, volWindow: 4, periodsPerYear: P252, trend: { window: 5, atLeast: 'neutral' } });
    expect(down.regime).toBe('crisis');
  });

  it('skips missing prices (NaN) instead of treating them as zero moves', () => {
    const withGap = [100, Number.NaN, 100 * Math.exp(0.01), 100, 100 * Math.exp(0.01), 100];
    const c = classifyByRule(withGap, { regimes, volWindow: 4, periodsPerYear: P252 });
    expect(c.realizedVol).toBeCloseTo(((0.01 * 2) / Math.sqrt(3)) * Math.sqrt(252), 10);
  });

  it('rejects too little data, unordered thresholds and unknown trend regimes', () => {
    const prices = pricesFromLogReturns([0.01, -0.01]);
    expect(() => classifyByRule(prices, { regimes, volWindow: 4, periodsPerYear: P252 })).toThrow(DataError);
    const unordered = [regimes[1], regimes[0]];
    expect(() =>
      classifyByRule(pricesFromLogReturns([0.01, -0.01, 0.01]), { regimes: unordered, volWindow: 2, periodsPerYear: P252 }),
    ).toThrow(ConfigError);
    expect(() =>
      classifyByRule(pricesFromLogReturns([0.01, -0.01, 0.01]), {
        regimes,
        volWindow: 2,
        periodsPerYear: P252,
        trend: { window: 2, atLeast: 'doom' },
      }),
    ).toThrow(ConfigError);
  });
});
