/**
 * Volatility targeting: scale the risky book so its forecast volatility meets the regime's target,
 * then bound the result. The forecast must be the volatility of the whole book, √(wᵀΣw)
 * (risk/measures.ts `portfolioVol`), so diversification counts; an average of single-asset vols
 * would overstate risk and under-lever.
 *
 * Order of the bounds (each step sees the previous step's output):
 *   1. raw = target vol / forecast vol
 *   2. global floor, then regime cap, then global cap (a cap below the floor wins)
 *   3. largest step per rebalance relative to the previous leverage
 *   4. optional smoothing towards the previous leverage
 *   5. the caps again: caps are risk limits and always win, so a regime change to a tighter cap
 *      takes effect at once instead of being walked down one step at a time. The floor is not
 *      re-applied: ramping up through the floor is exactly what the step limit is for.
 */
import { type AnnualizedVol, type Leverage, leverage } from './units';

/** Which bound decided the final leverage. */
export type LeverageBound = 'target' | 'regime-cap' | 'global-cap' | 'global-floor' | 'max-step';

export interface LeverageLimits {
  /** Tightest regime cap on gross leverage (leverage limit and risky-asset allocation). */
  readonly regimeCap: Leverage;
  readonly globalFloor: Leverage;
  readonly globalCap: Leverage;
  /** Largest change of leverage per rebalance; applies only when a previous leverage is known. */
  readonly maxStep: Leverage;
  /** Weight on the previous leverage in [0, 1): 0 disables smoothing. */
  readonly smoothing: number;
}

export interface LeverageDecision {
  readonly leverage: Leverage;
  /** Unbounded target / forecast ratio. */
  readonly raw: Leverage;
  /** After the caps and the floor, before the step limit and smoothing. */
  readonly clipped: Leverage;
  readonly bound: LeverageBound;
  /** True when smoothing moved the value (it is not a bound, so it is reported separately). */
  readonly smoothed: boolean;
}

/** The leverage that brings `forecast` to `target`, unbounded. */
export function rawTargetLeverage(target: AnnualizedVol, forecast: AnnualizedVol): Leverage {
  if (!(forecast > 0) || !Number.isFinite(forecast))
    throw new RangeError(`forecast volatility must be positive and finite, got ${forecast}`);
  if (!(target >= 0) || !Number.isFinite(target)) throw new RangeError(`target volatility must be non-negative and finite, got ${target}`);
  return leverage(target / forecast);
}

/** Clip to the global floor, then the regime cap, then the global cap (caps win over the floor). */
export function clipLeverage(raw: Leverage, limits: LeverageLimits): { leverage: Leverage; bound: LeverageBound } {
  checkLimits(limits);
  let value: number = raw;
  let bound: LeverageBound = 'target';
  // Floor first so a cap below the floor still wins: caps are risk limits, the floor a preference.
  if (value < limits.globalFloor) [value, bound] = [limits.globalFloor, 'global-floor'];
  if (value > limits.regimeCap) [value, bound] = [limits.regimeCap, 'regime-cap'];
  if (value > limits.globalCap) [value, bound] = [limits.globalCap, 'global-cap'];
  return { leverage: leverage(value), bound };
}

/** Move from `previous` towards `wanted` by at most `maxStep`. */
export function limitStep(wanted: Leverage, previous: Leverage, maxStep: Leverage): { leverage: Leverage; limited: boolean } {
  const delta = wanted - previous;
  if (Math.abs(delta) <= maxStep) return { leverage: wanted, limited: false };
  return { leverage: leverage(previous + Math.sign(delta) * maxStep), limited: true };
}

/** Exponential smoothing: weight `smoothing` on the previous leverage. */
export const smoothLeverage = (wanted: Leverage, previous: Leverage, smoothing: number): Leverage =>
  leverage(smoothing * previous + (1 - smoothing) * wanted);

/** The full vol-targeting decision; see the module comment for the order of the bounds. */
export function targetLeverage(
  target: AnnualizedVol,
  forecast: AnnualizedVol,
  limits: LeverageLimits,
  previous?: Leverage,
): LeverageDecision {
  const raw = rawTargetLeverage(target, forecast);
  const clipped = clipLeverage(raw, limits);
  if (previous === undefined || !Number.isFinite(previous)) {
    return { leverage: clipped.leverage, raw, clipped: clipped.leverage, bound: clipped.bound, smoothed: false };
  }
  const stepped = limitStep(clipped.leverage, previous, limits.maxStep);
  let bound: LeverageBound = stepped.limited ? 'max-step' : clipped.bound;
  let value: number = stepped.leverage;
  const smoothed = limits.smoothing > 0 && value !== previous;
  if (smoothed) value = smoothLeverage(leverage(value), previous, limits.smoothing);
  if (value > limits.regimeCap) [value, bound] = [limits.regimeCap, 'regime-cap'];
  if (value > limits.globalCap) [value, bound] = [limits.globalCap, 'global-cap'];
  return { leverage: leverage(value), raw, clipped: clipped.leverage, bound, smoothed };
}

function checkLimits(l: LeverageLimits): void {
  if (!(l.globalFloor >= 0 && l.globalCap >= l.globalFloor && l.regimeCap >= 0 && l.maxStep > 0)) {
    throw new RangeError(`inconsistent leverage limits: ${JSON.stringify(l)}`);
  }
  if (!(l.smoothing >= 0 && l.smoothing < 1)) throw new RangeError(`smoothing must be in [0, 1), got ${l.smoothing}`);
}
