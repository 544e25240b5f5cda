import { applyHysteresis, initialHysteresis, stepHysteresis } from '../../../../risk/regime/hysteresis';

const two = (pTurbulent: number): number[] => [1 - pTurbulent, pTurbulent];

describe('stepHysteresis', () => {
  it('switches only after minDwell consecutive observations at or above the threshold', () => {
    const opts = { threshold: 0.7, minDwell: 3 };
    let s = initialHysteresis(0);
    s = stepHysteresis(s, two(0.8), opts);
    expect(s).toEqual({ current: 0, candidate: 1, since: 1, observations: 1 });
    s = stepHysteresis(s, two(0.9), opts);
    expect(s).toEqual({ current: 0, candidate: 1, since: 1, observations: 2 });
    s = stepHysteresis(s, two(0.7), opts); // exactly at threshold counts
    expect(s).toEqual({ current: 1, candidate: null, since: 0, observations: 3 });
  });

  it('a challenger most-likely but below the threshold does not start the clock', () => {
    const opts = { threshold: 0.7, minDwell: 2 };
    let s = initialHysteresis(0);
    for (let i = 0; i < 10; i++) s = stepHysteresis(s, two(0.69), opts);
    expect(s.current).toBe(0);
    expect(s.candidate).toBeNull();
  });

  it('an interruption resets the dwell clock', () => {
    const opts = { threshold: 0.6, minDwell: 3 };
    const path = [0.9, 0.9, 0.4, 0.9, 0.9, 0.9].map(two);
    expect(Array.from(applyHysteresis(path, opts, 0))).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('does not flip-flop on a noisy boundary where the raw arg-max does', () => {
    // Probability oscillating around 0.5: the raw classification flips 39 times in 40 days.
    const noisy = Array.from({ length: 40 }, (_, t) => two(t % 2 === 0 ? 0.55 : 0.45));
    const raw = noisy.map((p) => (p[1] > 0.5 ? 1 : 0));
    const flips = (xs: ArrayLike<number>) => Array.from(xs).filter((x, i, a) => i > 0 && x !== a[i - 1]).length;
    expect(flips(raw)).toBe(39);
    expect(flips(applyHysteresis(noisy, { threshold: 0.6, minDwell: 3 }, 0))).toBe(0);
    // Even a threshold of 0.5 is held off by the dwell time, since no run lasts two days.
    expect(flips(applyHysteresis(noisy, { threshold: 0.5, minDwell: 2 }, 0))).toBe(0);
  });

  it('minDwell 1 and a tiny threshold reproduce the arg-max, ties going to the turbulent state', () => {
    const path = [0.2, 0.8, 0.5, 0.3, 0.6].map(two);
    expect(Array.from(applyHysteresis(path, { threshold: 1e-9, minDwell: 1 }, 0))).toEqual([0, 1, 1, 0, 1]);
  });

  it('times a new challenger afresh when the challenger changes (K = 3)', () => {
    const opts = { threshold: 0.5, minDwell: 2 };
    let s = initialHysteresis(0);
    s = stepHysteresis(s, [0.1, 0.8, 0.1], opts);
    s = stepHysteresis(s, [0.1, 0.1, 0.8], opts);
    expect(s).toMatchObject({ current: 0, candidate: 2, since: 2 });
    s = stepHysteresis(s, [0.1, 0.1, 0.8], opts);
    expect(s.current).toBe(2);
  });

  it('is pure: same input state and probabilities give the same output, input untouched', () => {
    const s0 = Object.freeze({ current: 0, candidate: 1, since: 4, observations: 5 });
    const a = stepHysteresis(s0, two(0.9), { threshold: 0.6, minDwell: 3 });
    const b = stepHysteresis(JSON.parse(JSON.stringify(s0)), two(0.9), { threshold: 0.6, minDwell: 3 });
    expect(a).toEqual(b);
    expect(a.current).toBe(1); // observations 6 − since 4 + 1 = 3 ≥ minDwell
  });

  it('rejects invalid options', () => {
    expect(() => stepHysteresis(initialHysteresis(0), two(1), { threshold: 0, minDwell: 1 })).toThrow(RangeError);
    expect(() => stepHysteresis(initialHysteresis(0), two(1), { threshold: 0.5, minDwell: 0 })).toThrow(RangeError);
  });
});
