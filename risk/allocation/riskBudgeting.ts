/**
 * Long-only risk budgeting: weights w ≥ 0, Σw = 1, whose relative risk contributions w_i(Σw)_i / wᵀΣw equal
 * a budget vector b (b = 1/n gives equal risk contribution, ERC).
 *
 * Method (Spinu 2013): minimize the strictly convex f(x) = ½ xᵀCx − Σ b_i ln x_i, whose unique minimizer
 * satisfies x_i(Cx)_i = b_i, then w = x/Σx. The problem is solved on the correlation matrix C (x = σ∘y),
 * which makes it scale-free and well conditioned, by damped Newton (step 1/(1+λ) while the Newton decrement
 * λ exceeds 0.25, full steps after), stopping when max_i |RC_i/σ − b_i| < tolerance (default 1e-10).
 * Cyclical coordinate descent (CCD) on the same objective (Griveau-Billion, Richard & Roncalli 2013) plays
 * two parts: O(n²) sweeps warm-start Newton to a 1e-8 budget error (Newton's O(n³) steps dominate for
 * hundreds of assets), after which Newton usually needs a single step; and it is the fallback if
 * Newton does not reach the tolerance.
 * Assets with a zero budget get zero weight.
 *
 * Bounds: exact budgets and weight bounds conflict in general. With `minWeight`/`maxWeight` the solver
 * first solves the unbounded problem exactly, then clips to the bounds and redistributes the clipped
 * mass proportionally over the unclipped assets (repeating until feasible). The result then reports
 * `boundsActive: true` and the achieved, larger, `budgetError`; it never claims the budgets hold.
 */
import type { CovarianceMatrix } from '../covariance';
import { cholesky, choleskySolve, matVec } from '../linalg';
import { DataError } from '../timeseries';
import { type Fraction, type Weights, fraction } from '../units';
import { BudgetError, equalBudgets, validateBudgets } from './budgets';

export interface RiskBudgetingOptions {
  /** Target for max_i |RC_i/σ − b_i|. Default 1e-10. */
  readonly tolerance?: number;
  readonly maxNewtonIterations?: number;
  readonly maxCcdSweeps?: number;
  /** CCD sweeps that warm-start Newton, stopping early once the budget error is below 1e-8. Default 50; 0 = cold start. */
  readonly warmStartSweeps?: number;
  /** Lower bound per asset (a number applies to all). */
  readonly minWeight?: number | readonly number[];
  /** Upper bound per asset (a number applies to all). */
  readonly maxWeight?: number | readonly number[];
}

export interface RiskBudgetingResult {
  readonly weights: Weights;
  /** Achieved relative risk contributions (sum to 1). */
  readonly riskContributions: readonly Fraction[];
  readonly budgets: readonly Fraction[];
  readonly solver: 'newton' | 'ccd';
  /** Newton iterations, or CCD sweeps when the fallback ran (Newton iterations are then in `newtonIterations`). */
  readonly iterations: number;
  readonly newtonIterations: number;
  /** CCD sweeps spent warm-starting Newton. */
  readonly warmStartSweeps: number;
  /** max_i |RC_i/σ − b_i| at the returned weights. */
  readonly budgetError: number;
  readonly converged: boolean;
  readonly boundsActive: boolean;
}

const DEFAULT_TOLERANCE = 1e-10;
/** From here one or two quadratically convergent Newton steps reach rounding level. */
const WARM_START_TOLERANCE = 1e-8;
/** Newton keeps stepping until the error is this fraction of the tolerance (or stops improving). */
const NEWTON_MARGIN = 1e-2;

export function equalRiskContribution(cov: CovarianceMatrix, opts: RiskBudgetingOptions = {}): RiskBudgetingResult {
  return riskBudgetingWeights(cov, equalBudgets(cov.assets.length), opts);
}

export function riskBudgetingWeights(
  cov: CovarianceMatrix,
  budgets: readonly number[],
  opts: RiskBudgetingOptions = {},
): RiskBudgetingResult {
  const n = cov.assets.length;
  if (n === 0) throw new DataError('risk budgeting needs at least one asset');
  const b = validateBudgets(budgets, n);
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  const active = b.map((_, i) => i).filter((i) => b[i] > 0);
  const { corr, vols } = correlationOf(cov, active);
  const activeBudgets = Float64Array.from(active, (i) => b[i]);

  const start = startingPoint(corr, active.length);
  const warm = solveCcd(corr, activeBudgets, start, WARM_START_TOLERANCE, opts.warmStartSweeps ?? 50);
  const newton = solveNewton(corr, activeBudgets, warm.x, tolerance, opts.maxNewtonIterations ?? 50);
  let x = newton.x;
  let solver: RiskBudgetingResult['solver'] = 'newton';
  let iterations = newton.iterations;
  if (!(newton.error < tolerance)) {
    const ccd = solveCcd(corr, activeBudgets, startingPoint(corr, active.length), tolerance, opts.maxCcdSweeps ?? 100_000);
    if (ccd.error < newton.error || !Number.isFinite(newton.error)) {
      x = ccd.x;
      solver = 'ccd';
      iterations = ccd.sweeps;
    }
  }
  const full = new Float64Array(n);
  let total = 0;
  active.forEach((i, k) => {
    full[i] = x[k] / vols[k];
    total += full[i];
  });
  for (let i = 0; i < n; i++) full[i] /= total;

  const bounded = applyBounds(full, opts);
  const rc = relativeContributions(cov.values, bounded.weights, n);
  const budgetError = maxAbsDiff(rc, b);
  return {
    weights: Array.from(bounded.weights, fraction),
    riskContributions: Array.from(rc, fraction),
    budgets: b,
    solver,
    iterations,
    newtonIterations: newton.iterations,
    warmStartSweeps: warm.sweeps,
    budgetError,
    converged: budgetError < tolerance,
    boundsActive: bounded.active,
  };
}

interface SolverState {
  readonly x: Float64Array;
  readonly error: number;
}

/** Damped Newton on f(x) = ½xᵀCx − Σ b ln x (Spinu 2013), from x0 (left untouched). */
function solveNewton(
  c: Float64Array,
  b: Float64Array,
  x0: Float64Array,
  tolerance: number,
  maxIterations: number,
): SolverState & { iterations: number } {
  const m = b.length;
  let x = Float64Array.from(x0);
  let cx = matVec(c, x, m);
  let error = budgetErrorOf(x, cx, b);
  let iterations = 0;
  const target = tolerance * NEWTON_MARGIN;
  const hessian = new Float64Array(m * m);
  // Aim below the tolerance so the weights, not just the contributions, are accurate; stop at rounding level.
  while (!(error < target) && iterations < maxIterations) {
    iterations++;
    const gradient = new Float64Array(m);
    hessian.set(c);
    for (let i = 0; i < m; i++) {
      gradient[i] = cx[i] - b[i] / x[i];
      hessian[i * m + i] += b[i] / (x[i] * x[i]);
    }
    const factor = cholesky(hessian, m);
    if (!factor) break;
    const step = choleskySolve(factor, gradient, m);
    let decrement = 0;
    for (let i = 0; i < m; i++) decrement += gradient[i] * step[i];
    const lambda = Math.sqrt(Math.max(decrement, 0));
    let t = lambda > 0.25 ? 1 / (1 + lambda) : 1;
    let next = x.map((v, i) => v - t * step[i]);
    // Guard the log barrier: the damped step stays inside the domain in theory; rounding might not.
    while (next.some((v) => !(v > 0)) && t > 1e-12) {
      t /= 2;
      next = x.map((v, i) => v - t * step[i]);
    }
    if (t <= 1e-12) break;
    const nextCx = matVec(c, next, m);
    const nextError = budgetErrorOf(next, nextCx, b);
    if (error < tolerance && !(nextError < error)) break;
    x = next;
    cx = nextCx;
    error = nextError;
  }
  return { x, error, iterations };
}

/** Cyclical coordinate descent from x0 (left untouched): each coordinate solves C_ii x_i² + (Cx − C_ii x_i)_i x_i − b_i = 0. */
function solveCcd(
  c: Float64Array,
  b: Float64Array,
  x0: Float64Array,
  tolerance: number,
  maxSweeps: number,
): SolverState & { sweeps: number } {
  const m = b.length;
  const x = Float64Array.from(x0);
  const cx = matVec(c, x, m);
  let error = budgetErrorOf(x, cx, b);
  let sweeps = 0;
  while (!(error < tolerance) && sweeps < maxSweeps) {
    sweeps++;
    for (let i = 0; i < m; i++) {
      const cii = c[i * m + i];
      const others = cx[i] - cii * x[i];
      const updated = (-others + Math.sqrt(others * others + 4 * cii * b[i])) / (2 * cii);
      const delta = updated - x[i];
      if (delta !== 0) {
        for (let k = 0; k < m; k++) cx[k] += c[k * m + i] * delta;
        x[i] = updated;
      }
    }
    // Recompute Cx exactly now and then so incremental updates do not drift below the tolerance.
    if (sweeps % 50 === 0) cx.set(matVec(c, x, m));
    error = budgetErrorOf(x, cx, b);
  }
  return { x, error, sweeps };
}

/** x0 = 1/√(1ᵀC1)·1, so that x0ᵀCx0 = 1 = Σb (Spinu's starting point). */
function startingPoint(c: Float64Array, m: number): Float64Array {
  let total = 0;
  for (let k = 0; k < c.length; k++) total += c[k];
  return new Float64Array(m).fill(1 / Math.sqrt(total > 0 ? total : m));
}

function budgetErrorOf(x: Float64Array, cx: Float64Array, b: Float64Array): number {
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += x[i] * cx[i];
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] * cx[i]) / variance - b[i]);
    if (!(d <= worst)) worst = d; // NaN propagates as the worst error
  }
  return worst;
}

function correlationOf(cov: CovarianceMatrix, active: readonly number[]): { corr: Float64Array; vols: Float64Array } {
  const n = cov.assets.length;
  const m = active.length;
  const vols = Float64Array.from(active, (i) => Math.sqrt(cov.values[i * n + i]));
  vols.forEach((v, k) => {
    if (!(v > 0)) throw new DataError(`asset ${cov.assets[active[k]]} has zero variance; it cannot carry a risk budget`);
  });
  const corr = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let c = 0; c < m; c++) corr[a * m + c] = cov.values[active[a] * n + active[c]] / (vols[a] * vols[c]);
  }
  return { corr, vols };
}

function relativeContributions(cov: Float64Array, w: Float64Array, n: number): Float64Array {
  const sw = matVec(cov, w, n);
  let variance = 0;
  for (let i = 0; i < n; i++) variance += w[i] * sw[i];
  return w.map((wi, i) => (wi * sw[i]) / variance);
}

function maxAbsDiff(a: Float64Array, b: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function boundVector(bound: number | readonly number[] | undefined, n: number, fallback: number, name: string): Float64Array {
  if (bound === undefined) return new Float64Array(n).fill(fallback);
  if (typeof bound === 'number') return new Float64Array(n).fill(bound);
  if (bound.length !== n) throw new BudgetError(`${name} has ${bound.length} entries for ${n} assets`);
  return Float64Array.from(bound);
}

/** Clip to [min, max] and spread the clipped mass proportionally over the still-free assets. */
function applyBounds(w: Float64Array, opts: RiskBudgetingOptions): { weights: Float64Array; active: boolean } {
  if (opts.minWeight === undefined && opts.maxWeight === undefined) return { weights: w, active: false };
  const n = w.length;
  const lo = boundVector(opts.minWeight, n, 0, 'minWeight');
  const hi = boundVector(opts.maxWeight, n, 1, 'maxWeight');
  let loSum = 0;
  let hiSum = 0;
  for (let i = 0; i < n; i++) {
    if (lo[i] < 0 || hi[i] < lo[i]) throw new BudgetError(`weight bounds for asset ${i + 1} are invalid: [${lo[i]}, ${hi[i]}]`);
    loSum += lo[i];
    hiSum += hi[i];
  }
  if (loSum > 1 + 1e-12 || hiSum < 1 - 1e-12)
    throw new BudgetError(`weight bounds are infeasible: minimums sum to ${loSum}, maximums to ${hiSum}`);
  const out = Float64Array.from(w);
  const fixed = new Uint8Array(n);
  let active = false;
  for (let round = 0; round <= n; round++) {
    let violated = false;
    for (let i = 0; i < n; i++) {
      if (fixed[i]) continue;
      if (out[i] > hi[i] || out[i] < lo[i]) {
        out[i] = Math.min(hi[i], Math.max(lo[i], out[i]));
        fixed[i] = 1;
        violated = true;
        active = true;
      }
    }
    if (!violated) break;
    let fixedMass = 0;
    let freeMass = 0;
    for (let i = 0; i < n; i++) {
      if (fixed[i]) fixedMass += out[i];
      else freeMass += out[i];
    }
    if (freeMass <= 0) break;
    const factor = (1 - fixedMass) / freeMass;
    for (let i = 0; i < n; i++) if (!fixed[i]) out[i] *= factor;
  }
  return { weights: out, active };
}
