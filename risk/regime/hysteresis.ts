/**
 * Regime-switch hysteresis: a switch is declared only after a challenger state has been the most
 * probable one, with probability at or above `threshold`, for `minDwell` consecutive observations.
 * This stops a filter hovering around 50 % from flip-flopping the budget every day.
 *
 * The state is plain JSON and the update is a pure function of (prior state, new probabilities), so it
 * can live in a Temporal workflow's state and be replayed deterministically. State indices refer to
 * the HMM's states ordered calm → turbulent (or to a rule classifier's regime list, fed one-hot).
 * Ties in the arg-max go to the more turbulent state (the cautious side).
 */
export interface HysteresisOptions {
  /** Probability the challenger needs, in (0, 1]; 0.5 with K = 2 means "more likely than not". */
  readonly threshold: number;
  /** Consecutive qualifying observations before switching; 1 switches on the first one. */
  readonly minDwell: number;
}

export interface HysteresisState {
  /** Declared regime (state index). */
  readonly current: number;
  /** Challenger being timed, or null. */
  readonly candidate: number | null;
  /** Observation number at which the challenger first qualified (meaningful when candidate ≠ null). */
  readonly since: number;
  /** Observations processed so far; the first update is observation 1. */
  readonly observations: number;
}

export const DEFAULT_HYSTERESIS: HysteresisOptions = { threshold: 0.6, minDwell: 3 };

export function initialHysteresis(current: number): HysteresisState {
  return { current, candidate: null, since: 0, observations: 0 };
}

export function stepHysteresis(
  state: HysteresisState,
  probabilities: ArrayLike<number>,
  options: HysteresisOptions = DEFAULT_HYSTERESIS,
): HysteresisState {
  validateOptions(options);
  const observations = state.observations + 1;
  const best = argmaxPreferLast(probabilities);
  const qualifies = best !== state.current && probabilities[best] >= options.threshold;
  if (!qualifies) return { current: state.current, candidate: null, since: 0, observations };

  const since = state.candidate === best ? state.since : observations;
  if (observations - since + 1 >= options.minDwell) {
    return { current: best, candidate: null, since: 0, observations };
  }
  return { current: state.current, candidate: best, since, observations };
}

/** Runs hysteresis over a whole probability path; returns the declared state index per observation. */
export function applyHysteresis(
  path: readonly ArrayLike<number>[],
  options: HysteresisOptions = DEFAULT_HYSTERESIS,
  initial?: number,
): Int32Array {
  const out = new Int32Array(path.length);
  if (path.length === 0) return out;
  let state = initialHysteresis(initial ?? argmaxPreferLast(path[0]));
  for (let t = 0; t < path.length; t++) {
    state = stepHysteresis(state, path[t], options);
    out[t] = state.current;
  }
  return out;
}

function argmaxPreferLast(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] >= p[best]) best = k;
  return best;
}

function validateOptions(o: HysteresisOptions): void {
  if (!(o.threshold > 0 && o.threshold <= 1)) throw new RangeError(`hysteresis threshold must be in (0, 1], got ${o.threshold}`);
  if (!Number.isInteger(o.minDwell) || o.minDwell < 1)
    throw new RangeError(`hysteresis minDwell must be an integer >= 1, got ${o.minDwell}`);
}
