/**
 * Online regime probabilities: the forward recursion only, P(state_t | x_1..x_t). Nothing here looks
 * at observations after t, so the same numbers are available live, in a backtest and in a replayed
 * workflow. (Smoothed probabilities exist inside Baum–Welch but are never exposed.)
 *
 * One step: predict with the transition matrix, then update with the emission density of x_t:
 *   p_t ∝ (p_{t−1} A) ∘ N(x_t; μ, σ²),   with p_0's prediction being the model's initial distribution.
 * A missing observation (any feature NaN) performs the prediction only.
 */
import { type GaussianHmm, type ObservationInput, type Params, toFeatures, toParams } from './hmm';

// Bound once: hot loops then avoid a global lookup per call (slow inside jest's vm sandbox, ~10×).
const { exp, log, max } = Math;

/** Serializable filter state: the last filtered distribution (null before the first observation). */
export interface FilterState {
  readonly probabilities: readonly number[] | null;
  readonly observations: number;
}

export class HmmFilter {
  private readonly params: Params;
  private readonly logNorm: Float64Array;
  /** Last filtered distribution, or null before the first observation. */
  private current: Float64Array | null;
  private readonly scratch: Float64Array;
  private count: number;

  constructor(
    readonly model: GaussianHmm,
    state: FilterState = { probabilities: null, observations: 0 },
  ) {
    this.params = toParams(model);
    this.logNorm = logNormalizers(this.params);
    if (state.probabilities !== null && state.probabilities.length !== this.params.k) {
      throw new RangeError(`filter state has ${state.probabilities.length} probabilities, model has ${this.params.k} states`);
    }
    this.current = state.probabilities === null ? null : Float64Array.from(state.probabilities);
    this.scratch = new Float64Array(this.params.k);
    this.count = state.observations;
  }

  /** Advances one observation (a number when D = 1) and returns P(state_t | x_1..t), calm → turbulent. */
  step(observation: number | ArrayLike<number>): Float64Array {
    const x = typeof observation === 'number' ? [observation] : observation;
    if (x.length !== this.params.d) throw new RangeError(`observation has ${x.length} features, model expects ${this.params.d}`);
    const next = predict(this.params, this.current);
    if (allFinite(x)) update(this.params, this.logNorm, next, x, this.scratch);
    this.current = next;
    this.count++;
    return Float64Array.from(next);
  }

  get state(): FilterState {
    return { probabilities: this.current === null ? null : Array.from(this.current), observations: this.count };
  }
}

/** Filtered probabilities for every observation: row t is P(state_t | x_1..t). */
export function filterProbabilities(model: GaussianHmm, input: ObservationInput): Float64Array[] {
  const x = toFeatures(input, false);
  const filter = new HmmFilter(model);
  const out: Float64Array[] = [];
  for (let t = 0; t < x.rows; t++) {
    out.push(filter.step(x.dims === 1 ? x.data[t] : x.data.subarray(t * x.dims, (t + 1) * x.dims)));
  }
  return out;
}

function predict(p: Params, previous: Float64Array | null): Float64Array {
  if (previous === null) return Float64Array.from(p.initial);
  const next = new Float64Array(p.k);
  for (let i = 0; i < p.k; i++) for (let j = 0; j < p.k; j++) next[j] += previous[i] * p.transition[i * p.k + j];
  return next;
}

/** Bayes update in place; log densities are shifted by their maximum so extreme days cannot underflow. */
function update(p: Params, logNorm: Float64Array, prior: Float64Array, x: ArrayLike<number>, logDensity: Float64Array): void {
  let peak = Number.NEGATIVE_INFINITY;
  for (let s = 0; s < p.k; s++) {
    let q = 0;
    for (let j = 0; j < p.d; j++) q += (x[j] - p.means[s * p.d + j]) ** 2 / p.variances[s * p.d + j];
    logDensity[s] = logNorm[s] - 0.5 * q;
    peak = max(peak, logDensity[s]);
  }
  let sum = 0;
  for (let s = 0; s < p.k; s++) sum += prior[s] *= max(exp(logDensity[s] - peak), 1e-300);
  if (!(sum > 0)) {
    // Prior mass sits entirely on states that cannot have produced x: fall back to the likelihood alone.
    for (let s = 0; s < p.k; s++) sum += prior[s] = exp(logDensity[s] - peak);
  }
  for (let s = 0; s < p.k; s++) prior[s] /= sum;
}

function allFinite(x: ArrayLike<number>): boolean {
  for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) return false;
  return true;
}

function logNormalizers(p: Params): Float64Array {
  const out = new Float64Array(p.k);
  for (let s = 0; s < p.k; s++) {
    let c = 0;
    for (let j = 0; j < p.d; j++) c += log(2 * Math.PI * p.variances[s * p.d + j]);
    out[s] = -0.5 * c;
  }
  return out;
}
