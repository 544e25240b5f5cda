/**
 * Long-only risk budgeting: weights w ≥ 0, Σw = 1, whose relative risk contributions w_i(Σw)_i / wᵀΣw equal
 * a budget vector b (b = 1/n gives equal risk contribution, ERC).
 *
 * Σ comes dense or in factor form (Σ = BFBᵀ + D, `risk/factorModel.ts`); the factor form is never
 * expanded to n×n. The problem is solved on the correlation matrix C (x = σ∘y), which makes it scale-free,
 * in Spinu's (2013) convex form (`spinu.ts`): a couple of coordinate-descent sweeps warm-start Newton,
 * whose steps need no factorisation of a dense C (preconditioned conjugate gradients, O(n²) per
 * iteration) and O(n·k²) for a factor C (Woodbury). It stops when max_i |RC_i/σ − b_i| < tolerance
 * (default 1e-10); coordinate descent alone is the fallback if Newton does not get there.
 * Assets with a zero budget get zero weight.
 *
 * Bounds: exact budgets and weight bounds conflict in general. With `minWeight`/`maxWeight` the solver
 * first solves the unbounded problem exactly, then clips to the bounds and redistributes the clipped
 * mass proportionally over the unclipped assets (repeating until feasible). The result then reports
 * `boundsActive: true` and the achieved, larger, `budgetError`; it never claims the budgets hold.
 */
import { type CovarianceModel, covarianceTimes } from '../factorModel';
import { DataError } from '../timeseries';
import { type Fraction, type Weights, fraction } from '../units';
import { BudgetError, equalBudgets, validateBudgets } from './budgets';
import { scaleCovariance } from './scaledCovariance';
import { type DenseNewtonSystem, type NewtonSystem, coordinateDescent, spinuNewton, startingPoint } from './spinu';

export interface RiskBudgetingOptions {
  /** Target for max_i |RC_i/σ − b_i|. Default 1e-10. */
  readonly tolerance?: number;
  readonly maxNewtonIterations?: number;
  readonly maxCcdSweeps?: number;
  /** Coordinate-descent sweeps that warm-start Newton, stopping early once the budget error is below 1e-8. Default 2; 0 = cold start. */
  readonly warmStartSweeps?: number;
  /**
   * How a dense Newton step is solved: 'conjugate-gradient' (default; hands over to Cholesky by itself
   * when CG would cost more) or 'cholesky' throughout, O(n³) per step. A factor form always uses Woodbury.
   */
  readonly denseNewtonSystem?: DenseNewtonSystem;
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
  /** How the last Newton step was solved. */
  readonly newtonSystem: NewtonSystem;
  /** Conjugate-gradient iterations (one covariance product each) over all Newton steps. */
  readonly conjugateGradientIterations: number;
  /** CCD sweeps spent warm-starting Newton. */
  readonly warmStartSweeps: number;
  /** max_i |RC_i/σ − b_i| at the returned weights. */
  readonly budgetError: number;
  readonly converged: boolean;
  readonly boundsActive: boolean;
}

const DEFAULT_TOLERANCE = 1e-10;
/** Warm-start sweeps stop here at the latest: from 1e-8 one quadratically convergent Newton step reaches rounding level. */
const WARM_START_TOLERANCE = 1e-8;
/** Newton keeps stepping until the error is this fraction of the tolerance (or stops improving). */
const NEWTON_MARGIN = 1e-2;

export function equalRiskContribution(cov: CovarianceModel, opts: RiskBudgetingOptions = {}): RiskBudgetingResult {
  return riskBudgetingWeights(cov, equalBudgets(cov.assets.length), opts);
}

export function riskBudgetingWeights(
  cov: CovarianceModel,
  budgets: readonly number[],
  opts: RiskBudgetingOptions = {},
): RiskBudgetingResult {
  const n = cov.assets.length;
  if (n === 0) throw new DataError('risk budgeting needs at least one asset');
  const b = validateBudgets(budgets, n);
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  const active = b.map((_, i) => i).filter((i) => b[i] > 0);
  const { scaled, vols } = scaleCovariance(cov, active);
  const activeBudgets = Float64Array.from(active, (i) => b[i]);

  const start = startingPoint(scaled, activeBudgets);
  const warm = coordinateDescent(scaled, activeBudgets, start, WARM_START_TOLERANCE, opts.warmStartSweeps ?? 2);
  const newton = spinuNewton(scaled, activeBudgets, warm, {
    target: tolerance * NEWTON_MARGIN,
    tolerance,
    maxIterations: opts.maxNewtonIterations ?? 50,
    denseSystem: opts.denseNewtonSystem ?? 'conjugate-gradient',
  });
  let x = newton.x;
  let solver: RiskBudgetingResult['solver'] = 'newton';
  let iterations = newton.iterations;
  if (!(newton.error < tolerance)) {
    const ccd = coordinateDescent(scaled, activeBudgets, start, tolerance, opts.maxCcdSweeps ?? 100_000);
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
  const rc = relativeContributions(cov, bounded.weights);
  const budgetError = maxAbsDiff(rc, b);
  return {
    weights: Array.from(bounded.weights, fraction),
    riskContributions: Array.from(rc, fraction),
    budgets: b,
    solver,
    iterations,
    newtonIterations: newton.iterations,
    newtonSystem: newton.system,
    conjugateGradientIterations: newton.conjugateGradientIterations,
    warmStartSweeps: warm.sweeps,
    budgetError,
    converged: budgetError < tolerance,
    boundsActive: bounded.active,
  };
}

function relativeContributions(cov: CovarianceModel, w: Float64Array): Float64Array {
  const sw = covarianceTimes(cov, w);
  let variance = 0;
  for (let i = 0; i < w.length; i++) variance += w[i] * sw[i];
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
