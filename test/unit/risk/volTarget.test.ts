// Hand-computed vol-targeting cases. Convention: leverage = gross notional / capital, vols annualized.
import fc from 'fast-check';
import { annualizedVol, leverage } from '../../../risk/units';
import { type LeverageLimits, clipLeverage, limitStep, rawTargetLeverage, smoothLeverage, targetLeverage } from '../../../risk/volTarget';

const vol = annualizedVol;
const limits = (over: Partial<LeverageLimits> = {}): LeverageLimits => ({
  regimeCap: leverage(1.5),
  globalFloor: leverage(0),
  globalCap: leverage(2),
  maxStep: leverage(1),
  smoothing: 0,
  ...over,
});

describe('rawTargetLeverage', () => {
  it('is target / forecast', () => {
    expect(rawTargetLeverage(vol(0.1), vol(0.2))).toBeCloseTo(0.5, 15);
    expect(rawTargetLeverage(vol(0.12), vol(0.06))).toBeCloseTo(2, 15);
  });

  it('rejects a zero, negative or non-finite forecast instead of returning infinite leverage', () => {
    expect(() => rawTargetLeverage(vol(0.1), vol(0))).toThrow(RangeError);
    expect(() => rawTargetLeverage(vol(0.1), vol(-0.1))).toThrow(RangeError);
    expect(() => rawTargetLeverage(vol(0.1), vol(Number.NaN))).toThrow(RangeError);
  });
});

describe('targetLeverage: each bound', () => {
  it('target: 10 % / 20 % = 0.5, inside every bound', () => {
    const d = targetLeverage(vol(0.1), vol(0.2), limits());
    expect(d.leverage).toBeCloseTo(0.5, 15);
    expect(d.bound).toBe('target');
  });

  it('regime-cap: 12 % / 6 % = 2.0 capped by the regime at 1.5', () => {
    const d = targetLeverage(vol(0.12), vol(0.06), limits({ globalCap: leverage(3) }));
    expect(d.raw).toBeCloseTo(2, 15);
    expect(d.leverage).toBe(1.5);
    expect(d.bound).toBe('regime-cap');
  });

  it('global-cap: 2.0 capped globally at 1.8 when the regime allows 3', () => {
    const d = targetLeverage(vol(0.12), vol(0.06), limits({ regimeCap: leverage(3), globalCap: leverage(1.8) }));
    expect(d.leverage).toBe(1.8);
    expect(d.bound).toBe('global-cap');
  });

  it('global-floor: 5 % / 50 % = 0.1 raised to the 0.25 floor', () => {
    const d = targetLeverage(vol(0.05), vol(0.5), limits({ globalFloor: leverage(0.25) }));
    expect(d.raw).toBeCloseTo(0.1, 15);
    expect(d.leverage).toBe(0.25);
    expect(d.bound).toBe('global-floor');
  });

  it('a regime cap below the floor wins (caps are risk limits)', () => {
    const d = targetLeverage(vol(0.05), vol(0.5), limits({ globalFloor: leverage(0.5), regimeCap: leverage(0.4) }));
    expect(d.leverage).toBe(0.4);
    expect(d.bound).toBe('regime-cap');
  });

  it('max-step: from 1.2 towards 0.5 moves only 0.25 to 0.95; upwards from 0.2 by 0.1 to 0.3', () => {
    const down = targetLeverage(vol(0.1), vol(0.2), limits({ maxStep: leverage(0.25) }), leverage(1.2));
    expect(down.leverage).toBeCloseTo(0.95, 15);
    expect(down.clipped).toBeCloseTo(0.5, 15);
    expect(down.bound).toBe('max-step');
    const up = targetLeverage(vol(0.1), vol(0.2), limits({ maxStep: leverage(0.1) }), leverage(0.2));
    expect(up.leverage).toBeCloseTo(0.3, 15);
    expect(up.bound).toBe('max-step');
  });

  it('a move of exactly the max step is not limited', () => {
    const d = targetLeverage(vol(0.1), vol(0.2), limits({ maxStep: leverage(0.25) }), leverage(0.75));
    expect(d.leverage).toBeCloseTo(0.5, 15);
    expect(d.bound).toBe('target');
  });

  it('without a previous leverage the step limit and smoothing do not apply', () => {
    const d = targetLeverage(vol(0.1), vol(0.2), limits({ maxStep: leverage(0.01), smoothing: 0.9 }));
    expect(d.leverage).toBeCloseTo(0.5, 15);
    expect(d.smoothed).toBe(false);
  });

  it('a tighter regime cap takes effect at once, not one step at a time (bull 1.5 → crisis cap 0.4)', () => {
    const d = targetLeverage(vol(0.05), vol(0.2), limits({ regimeCap: leverage(0.4), maxStep: leverage(0.25) }), leverage(1.5));
    // raw 0.25; the step alone would give 1.25; the cap is re-applied.
    expect(d.leverage).toBe(0.4);
    expect(d.bound).toBe('regime-cap');
  });

  it('the floor is not re-applied after the step: ramping up through it is the point of the step', () => {
    const d = targetLeverage(vol(0.1), vol(0.2), limits({ globalFloor: leverage(0.5), maxStep: leverage(0.1) }), leverage(0));
    expect(d.leverage).toBeCloseTo(0.1, 15);
    expect(d.bound).toBe('max-step');
  });
});

describe('smoothing', () => {
  it('weights the previous leverage: 0.5 × 1.0 + 0.5 × 0.5 = 0.75', () => {
    expect(smoothLeverage(leverage(0.5), leverage(1), 0.5)).toBeCloseTo(0.75, 15);
    const d = targetLeverage(vol(0.1), vol(0.2), limits({ smoothing: 0.5 }), leverage(1));
    expect(d.leverage).toBeCloseTo(0.75, 15);
    expect(d.smoothed).toBe(true);
    expect(d.bound).toBe('target');
  });

  it('applies after the step limit: step 1.2 → 0.95, then 0.2 × 1.2 + 0.8 × 0.95 = 1.0', () => {
    const d = targetLeverage(vol(0.1), vol(0.2), limits({ maxStep: leverage(0.25), smoothing: 0.2 }), leverage(1.2));
    expect(d.leverage).toBeCloseTo(1.0, 14);
    expect(d.bound).toBe('max-step');
  });
});

describe('building blocks', () => {
  it('clipLeverage reports the binding bound', () => {
    expect(clipLeverage(leverage(1), limits())).toEqual({ leverage: 1, bound: 'target' });
    expect(clipLeverage(leverage(5), limits())).toEqual({ leverage: 1.5, bound: 'regime-cap' });
  });

  it('limitStep is symmetric', () => {
    expect(limitStep(leverage(2), leverage(1), leverage(0.5))).toEqual({ leverage: 1.5, limited: true });
    expect(limitStep(leverage(0), leverage(1), leverage(0.5))).toEqual({ leverage: 0.5, limited: true });
  });

  it('rejects inconsistent limits', () => {
    expect(() => clipLeverage(leverage(1), limits({ globalFloor: leverage(3) }))).toThrow(RangeError);
    expect(() => clipLeverage(leverage(1), limits({ smoothing: 1 }))).toThrow(RangeError);
    expect(() => clipLeverage(leverage(1), limits({ maxStep: leverage(0) }))).toThrow(RangeError);
  });
});

describe('targetLeverage invariants (property-based)', () => {
  const arb = fc.record({
    target: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    forecast: fc.double({ min: 0.01, max: 1, noNaN: true }),
    regimeCap: fc.double({ min: 0, max: 3, noNaN: true }),
    floor: fc.double({ min: 0, max: 1, noNaN: true }),
    extraCap: fc.double({ min: 0, max: 2, noNaN: true }),
    maxStep: fc.double({ min: 0.01, max: 1, noNaN: true }),
    smoothing: fc.double({ min: 0, max: 0.99, noNaN: true }),
    previous: fc.option(fc.double({ min: 0, max: 3, noNaN: true }), { nil: undefined }),
  });

  it('never exceeds a cap; moves at most one step unless a cap forces it down', () => {
    fc.assert(
      fc.property(arb, (p) => {
        const l = limits({
          regimeCap: leverage(p.regimeCap),
          globalFloor: leverage(p.floor),
          globalCap: leverage(p.floor + p.extraCap),
          maxStep: leverage(p.maxStep),
          smoothing: p.smoothing,
        });
        const d = targetLeverage(vol(p.target), vol(p.forecast), l, p.previous === undefined ? undefined : leverage(p.previous));
        const cap = Math.min(l.regimeCap, l.globalCap);
        expect(d.leverage).toBeGreaterThanOrEqual(0);
        expect(d.leverage).toBeLessThanOrEqual(cap);
        if (p.previous !== undefined && d.bound !== 'regime-cap' && d.bound !== 'global-cap') {
          expect(Math.abs(d.leverage - p.previous)).toBeLessThanOrEqual(p.maxStep + 1e-12);
        }
        if (p.previous === undefined) expect(d.leverage).toBe(d.clipped);
      }),
      { numRuns: 2000, seed: 20261124 },
    );
  });
});
