/**
 * Gaussian hidden Markov model for market regimes, fitted by Baum–Welch.
 *
 * Observations are feature vectors x_t ∈ R^D (D = 1 for the usual case: daily log returns of the index;
 * extra features such as log realized vol or implied vol may be appended). Each state k emits
 * N(μ_k, diag(σ²_k)): a diagonal covariance, i.e. features are conditionally independent given the state.
 *
 * Numerics: emissions are evaluated in log space and shifted by their per-observation maximum before
 * exponentiating, and the forward/backward passes are scaled (Rabiner), so long series (8000+ days) and
 * crash days 20 σ from the calm state neither underflow nor overflow. A variance floor (a fraction of
 * each feature's sample variance) stops a state from collapsing onto a few identical observations.
 *
 * States are returned ordered by the variance of the first feature, calm → turbulent, so state 0 is
 * always the quietest. Models are plain JSON so they can travel in workflow state and payloads.
 */
import { DataError } from '../timeseries';
import { seededRng, type Rng } from '../random';

// Bound once: hot loops then avoid a global lookup per call (slow inside jest's vm sandbox, ~10×).
const { exp, log, max } = Math;

export interface GaussianHmm {
  /** P(state at the first observation). */
  readonly initial: readonly number[];
  /** transition[i][j] = P(state j tomorrow | state i today); rows sum to 1. */
  readonly transition: readonly (readonly number[])[];
  /** means[k][d]: mean of feature d in state k (daily units for returns). */
  readonly means: readonly (readonly number[])[];
  /** variances[k][d]: variance of feature d in state k. */
  readonly variances: readonly (readonly number[])[];
}

/** One observation per row: a plain series (D = 1) or a list of equal-length feature vectors. */
export type ObservationInput = ArrayLike<number> | readonly ArrayLike<number>[];

export interface FitOptions {
  readonly states: number;
  /** Independent seeded initializations; the best final log-likelihood wins. Default 5. */
  readonly restarts?: number;
  readonly seed?: number;
  /** Baum–Welch iterations per restart. Default 500. */
  readonly maxIterations?: number;
  /** Stop when the log-likelihood improves by less than this (total, in nats). Default 1e-6. */
  readonly tolerance?: number;
  /** Variance floor as a fraction of each feature's sample variance (0.01 = a tenth of its vol). Default 0.01. */
  readonly varianceFloorRatio?: number;
}

export interface RestartSummary {
  readonly seed: number;
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export interface HmmFit {
  readonly model: GaussianHmm;
  /** Log-likelihood of the observations under `model` (natural log, densities of the features). */
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Log-likelihood before each Baum–Welch update of the winning restart; non-decreasing. */
  readonly logLikelihoodHistory: readonly number[];
  readonly restarts: readonly RestartSummary[];
  readonly observations: number;
}

/** Row-major T × D matrix of observations with no missing values. */
interface Features {
  readonly rows: number;
  readonly dims: number;
  readonly data: Float64Array;
}

/** @internal Flat working copy of a model: K states, D features. */
export interface Params {
  readonly k: number;
  readonly d: number;
  initial: Float64Array;
  transition: Float64Array; // K × K
  means: Float64Array; // K × D
  variances: Float64Array; // K × D
}

const LOG_2PI = log(2 * Math.PI);
/** Emission likelihoods below this (relative to the best state) are clamped so scaling never divides by 0. */
const MIN_RELATIVE_LIKELIHOOD = 1e-300;

export function fitGaussianHmm(input: ObservationInput, options: FitOptions): HmmFit {
  const k = options.states;
  if (!Number.isInteger(k) || k < 1 || k > 10) throw new RangeError(`number of states must be an integer in [1, 10], got ${k}`);
  const restarts = positiveInt(options.restarts ?? 5, 'restarts');
  const maxIterations = positiveInt(options.maxIterations ?? 500, 'maxIterations');
  const tolerance = options.tolerance ?? 1e-6;
  const floorRatio = options.varianceFloorRatio ?? 1e-2;
  if (!(floorRatio > 0 && floorRatio < 1)) throw new RangeError(`varianceFloorRatio must be in (0, 1), got ${floorRatio}`);

  const x = toFeatures(input, true);
  requireEnoughObservations(x, k);
  const { mean, variance } = columnMoments(x);
  const floor = variance.map((v) => v * floorRatio);
  const baseSeed = options.seed ?? 1;

  let best: { params: Params; history: number[]; converged: boolean } | undefined;
  const summaries: RestartSummary[] = [];
  for (let r = 0; r < restarts; r++) {
    const seed = (baseSeed + r * 0x9e3779b9) >>> 0;
    const run = baumWelch(
      x,
      initialParams(k, mean, variance, floor, r === 0 ? undefined : seededRng(seed)),
      floor,
      maxIterations,
      tolerance,
    );
    const final = run.history[run.history.length - 1];
    summaries.push({ seed, logLikelihood: final, iterations: run.history.length - 1, converged: run.converged });
    if (!best || final > best.history[best.history.length - 1]) best = run;
  }
  const chosen = best!;
  return {
    model: orderByVolatility(toModel(chosen.params)),
    logLikelihood: chosen.history[chosen.history.length - 1],
    iterations: chosen.history.length - 1,
    converged: chosen.converged,
    logLikelihoodHistory: chosen.history,
    restarts: summaries,
    observations: x.rows,
  };
}

/** Log-likelihood of observations under a model (forward algorithm). */
export function logLikelihood(model: GaussianHmm, input: ObservationInput): number {
  const p = toParams(model);
  const x = toFeatures(input, true);
  checkDims(p, x);
  const emission = new Float64Array(x.rows * p.k);
  const emissionLogMax = new Float64Array(x.rows);
  emissions(x, p, emission, emissionLogMax);
  return forward(p, emission, emissionLogMax, x.rows, new Float64Array(x.rows * p.k), new Float64Array(x.rows));
}

/**
 * Long-run state distribution π = πA of the transition matrix (power iteration). A better starting
 * prior than the fitted `initial` (which describes the first day of the training window) when a
 * filter starts cold on new data: `new HmmFilter({ ...model, initial: stationaryDistribution(model) })`.
 */
export function stationaryDistribution(model: GaussianHmm): number[] {
  const k = model.initial.length;
  let p = new Array<number>(k).fill(1 / k);
  for (let iter = 0; iter < 10_000; iter++) {
    const next = new Array<number>(k).fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) next[j] += p[i] * model.transition[i][j];
    const change = next.reduce((s, v, j) => s + Math.abs(v - p[j]), 0);
    p = next;
    if (change < 1e-15) break;
  }
  const total = p.reduce((s, v) => s + v, 0);
  return p.map((v) => v / total);
}

// ---------------------------------------------------------------------------------------------
// Baum–Welch

function baumWelch(
  x: Features,
  start: Params,
  floor: readonly number[],
  maxIterations: number,
  tolerance: number,
): { params: Params; history: number[]; converged: boolean } {
  const { rows: t } = x;
  const k = start.k;
  const emission = new Float64Array(t * k);
  const emissionLogMax = new Float64Array(t);
  const alpha = new Float64Array(t * k);
  const beta = new Float64Array(t * k);
  const scale = new Float64Array(t);
  const gamma = new Float64Array(t * k);
  const xi = new Float64Array(k * k);
  const params = start;
  const history: number[] = [];

  for (let iter = 0; iter <= maxIterations; iter++) {
    emissions(x, params, emission, emissionLogMax);
    const ll = forward(params, emission, emissionLogMax, t, alpha, scale);
    history.push(ll);
    const n = history.length;
    if (n > 1 && ll - history[n - 2] < tolerance) return { params, history, converged: true };
    if (iter === maxIterations) break;
    backward(params, emission, scale, t, beta);
    posteriors(params, emission, alpha, beta, scale, t, gamma, xi);
    maximize(x, params, gamma, xi, floor);
  }
  return { params, history, converged: false };
}

/** emission[t,k] = N(x_t; μ_k, σ²_k) / max_j N(x_t; μ_j, σ²_j); logMax[t] = log of that maximum. */
function emissions(x: Features, p: Params, emission: Float64Array, logMax: Float64Array): void {
  const { k, d } = p;
  const norm = new Float64Array(k);
  for (let s = 0; s < k; s++) {
    let c = 0;
    for (let j = 0; j < d; j++) c += LOG_2PI + log(p.variances[s * d + j]);
    norm[s] = -0.5 * c;
  }
  for (let t = 0; t < x.rows; t++) {
    let peak = Number.NEGATIVE_INFINITY;
    for (let s = 0; s < k; s++) {
      let q = 0;
      for (let j = 0; j < d; j++) {
        const z = x.data[t * d + j] - p.means[s * d + j];
        q += (z * z) / p.variances[s * d + j];
      }
      const logDensity = norm[s] - 0.5 * q;
      emission[t * k + s] = logDensity;
      if (logDensity > peak) peak = logDensity;
    }
    logMax[t] = peak;
    for (let s = 0; s < k; s++) emission[t * k + s] = max(exp(emission[t * k + s] - peak), MIN_RELATIVE_LIKELIHOOD);
  }
}

/** Scaled forward pass: alpha[t] = P(state_t | x_1..t); returns the log-likelihood. */
function forward(p: Params, emission: Float64Array, logMax: Float64Array, rows: number, alpha: Float64Array, scale: Float64Array): number {
  const { k } = p;
  let ll = 0;
  for (let t = 0; t < rows; t++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      let prior = 0;
      if (t === 0) prior = p.initial[j];
      else for (let i = 0; i < k; i++) prior += alpha[(t - 1) * k + i] * p.transition[i * k + j];
      const a = prior * emission[t * k + j];
      alpha[t * k + j] = a;
      sum += a;
    }
    scale[t] = sum;
    for (let j = 0; j < k; j++) alpha[t * k + j] /= sum;
    ll += log(sum) + logMax[t];
  }
  return ll;
}

/** Scaled backward pass with the forward scale factors, so alpha·beta is the smoothed posterior. */
function backward(p: Params, emission: Float64Array, scale: Float64Array, rows: number, beta: Float64Array): void {
  const { k } = p;
  for (let j = 0; j < k; j++) beta[(rows - 1) * k + j] = 1;
  for (let t = rows - 2; t >= 0; t--) {
    for (let i = 0; i < k; i++) {
      let b = 0;
      for (let j = 0; j < k; j++) b += p.transition[i * k + j] * emission[(t + 1) * k + j] * beta[(t + 1) * k + j];
      beta[t * k + i] = b / scale[t + 1];
    }
  }
}

/** gamma[t,i] = P(state_t = i | all x); xi[i,j] = Σ_t P(state_t = i, state_t+1 = j | all x). */
function posteriors(
  p: Params,
  emission: Float64Array,
  alpha: Float64Array,
  beta: Float64Array,
  scale: Float64Array,
  rows: number,
  gamma: Float64Array,
  xi: Float64Array,
): void {
  const { k } = p;
  xi.fill(0);
  for (let t = 0; t < rows; t++) {
    let sum = 0;
    for (let i = 0; i < k; i++) sum += gamma[t * k + i] = alpha[t * k + i] * beta[t * k + i];
    for (let i = 0; i < k; i++) gamma[t * k + i] /= sum;
    if (t === rows - 1) continue;
    for (let i = 0; i < k; i++) {
      const a = alpha[t * k + i] / scale[t + 1];
      for (let j = 0; j < k; j++) xi[i * k + j] += a * p.transition[i * k + j] * emission[(t + 1) * k + j] * beta[(t + 1) * k + j];
    }
  }
}

/** M-step. Keeps a state's previous parameters if it has (numerically) no posterior mass. */
function maximize(x: Features, p: Params, gamma: Float64Array, xi: Float64Array, floor: readonly number[]): void {
  const { k, d } = p;
  for (let i = 0; i < k; i++) p.initial[i] = gamma[i];
  for (let i = 0; i < k; i++) {
    let row = 0;
    for (let j = 0; j < k; j++) row += xi[i * k + j];
    if (row > 0) for (let j = 0; j < k; j++) p.transition[i * k + j] = xi[i * k + j] / row;
  }
  for (let s = 0; s < k; s++) {
    let weight = 0;
    const sum = new Float64Array(d);
    for (let t = 0; t < x.rows; t++) {
      const g = gamma[t * k + s];
      weight += g;
      for (let j = 0; j < d; j++) sum[j] += g * x.data[t * d + j];
    }
    if (weight < 1e-10) continue;
    for (let j = 0; j < d; j++) {
      const mu = sum[j] / weight;
      let ss = 0;
      for (let t = 0; t < x.rows; t++) ss += gamma[t * k + s] * (x.data[t * d + j] - mu) ** 2;
      p.means[s * d + j] = mu;
      // The floored value is the constrained maximizer (the likelihood is unimodal in σ²), so EM stays monotone.
      p.variances[s * d + j] = max(ss / weight, floor[j]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Initialization and model plumbing

/**
 * Restart 0 is deterministic: all states at the sample mean, variances spread geometrically from
 * 0.3× to 3× the sample variance, sticky transitions (0.95 on the diagonal). Other restarts jitter
 * means by ±0.5σ, variances by a log-normal factor and draw the diagonal from [0.7, 0.99].
 */
function initialParams(k: number, mean: readonly number[], variance: readonly number[], floor: readonly number[], rng?: Rng): Params {
  const d = mean.length;
  const p: Params = {
    k,
    d,
    initial: new Float64Array(k).fill(1 / k),
    transition: new Float64Array(k * k),
    means: new Float64Array(k * d),
    variances: new Float64Array(k * d),
  };
  for (let s = 0; s < k; s++) {
    const spread = k === 1 ? 1 : exp(log(0.3) + ((log(3) - log(0.3)) * s) / (k - 1));
    for (let j = 0; j < d; j++) {
      const jitterMean = rng ? 0.5 * Math.sqrt(variance[j]) * rng.normal() : 0;
      const jitterVar = rng ? exp(0.5 * rng.normal()) : 1;
      p.means[s * d + j] = mean[j] + jitterMean;
      p.variances[s * d + j] = max(variance[j] * spread * jitterVar, floor[j]);
    }
    const stay = k === 1 ? 1 : rng ? 0.7 + 0.29 * rng.uniform() : 0.95;
    for (let j = 0; j < k; j++) p.transition[s * k + j] = j === s ? stay : (1 - stay) / (k - 1);
  }
  return p;
}

/** Permutes states so the first feature's variance increases with the state index. */
export function orderByVolatility(model: GaussianHmm): GaussianHmm {
  const order = model.variances
    .map((v, i) => ({ v: v[0], i }))
    .sort((a, b) => a.v - b.v || a.i - b.i)
    .map((o) => o.i);
  return {
    initial: order.map((i) => model.initial[i]),
    transition: order.map((i) => order.map((j) => model.transition[i][j])),
    means: order.map((i) => [...model.means[i]]),
    variances: order.map((i) => [...model.variances[i]]),
  };
}

function toModel(p: Params): GaussianHmm {
  const rows = (a: Float64Array, n: number) => Array.from({ length: p.k }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  return {
    initial: Array.from(p.initial),
    transition: rows(p.transition, p.k),
    means: rows(p.means, p.d),
    variances: rows(p.variances, p.d),
  };
}

/** @internal Validates a model and copies it into flat arrays. */
export function toParams(model: GaussianHmm): Params {
  const k = model.initial.length;
  const d = model.means[0]?.length ?? 0;
  const shapeOk =
    k > 0 &&
    d > 0 &&
    model.transition.length === k &&
    model.transition.every((r) => r.length === k) &&
    model.means.length === k &&
    model.variances.length === k &&
    model.means.every((m) => m.length === d) &&
    model.variances.every((v) => v.length === d);
  if (!shapeOk) throw new RangeError('malformed HMM: initial, transition, means and variances must agree on K states and D features');
  if (!model.variances.every((v) => v.every((x) => x > 0 && Number.isFinite(x))))
    throw new RangeError('malformed HMM: variances must be positive and finite');
  return {
    k,
    d,
    initial: Float64Array.from(model.initial),
    transition: Float64Array.from(model.transition.flat()),
    means: Float64Array.from(model.means.flat()),
    variances: Float64Array.from(model.variances.flat()),
  };
}

/** @internal Copies observations into a row-major matrix; rows with a missing (NaN) feature are rejected or kept. */
export function toFeatures(input: ObservationInput, rejectMissing: boolean): Features {
  const rows = input.length;
  if (rows === 0) return { rows: 0, dims: 1, data: new Float64Array(0) };
  const first = input[0];
  const univariate = typeof first === 'number';
  const dims = univariate ? 1 : (first as ArrayLike<number>).length;
  if (dims < 1) throw new DataError('observations must have at least one feature');
  const data = new Float64Array(rows * dims);
  for (let t = 0; t < rows; t++) {
    const row = univariate ? [(input as ArrayLike<number>)[t]] : (input as readonly ArrayLike<number>[])[t];
    if (row.length !== dims) throw new DataError(`observation ${t} has ${row.length} features, expected ${dims}`);
    for (let j = 0; j < dims; j++) {
      const v = row[j];
      if (rejectMissing && !Number.isFinite(v))
        throw new DataError(`observation ${t}, feature ${j} is not a finite number (${v}); drop missing rows before fitting`);
      data[t * dims + j] = v;
    }
  }
  return { rows, dims, data };
}

function checkDims(p: Params, x: Features): void {
  if (x.rows > 0 && x.dims !== p.d) throw new DataError(`observations have ${x.dims} features but the model expects ${p.d}`);
}

/** Ten observations per free parameter: (K−1) initial + K(K−1) transition + 2KD emission. */
export function minimumObservations(states: number, dims: number): number {
  return 10 * (states - 1 + states * (states - 1) + 2 * states * dims);
}

function requireEnoughObservations(x: Features, k: number): void {
  const needed = minimumObservations(k, x.dims);
  if (x.rows < needed) throw new DataError(`too few observations to fit a ${k}-state HMM: have ${x.rows}, need at least ${needed}`);
}

function columnMoments(x: Features): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let j = 0; j < x.dims; j++) {
    let m = 0;
    for (let t = 0; t < x.rows; t++) m += x.data[t * x.dims + j];
    m /= x.rows;
    let v = 0;
    for (let t = 0; t < x.rows; t++) v += (x.data[t * x.dims + j] - m) ** 2;
    v /= x.rows;
    if (!(v > 0)) throw new DataError(`feature ${j} is constant; an HMM cannot separate regimes in it`);
    mean.push(m);
    variance.push(v);
  }
  return { mean, variance };
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1, got ${v}`);
  return v;
}
