/**
 * Spinu's (2013) convex form of risk budgeting on a unit-diagonal covariance C: minimise
 * f(x) = ½xᵀCx − Σ b_i ln x_i over x > 0. The minimiser satisfies x_i(Cx)_i = b_i, so x normalised to
 * sum 1 has relative risk contributions b. Two solvers share that objective:
 *
 * - Newton. The gradient is g = Cx − b/x and the Hessian H = C + diag(b/x²), and a step needs H⁻¹g but
 *   never H⁻¹ itself. Dense C: Jacobi-preconditioned conjugate gradients, one O(m²) product per iteration
 *   (a handful per step: b/x² dominates the diagonal of H, so diag(H) is a good preconditioner); if CG
 *   needs more products than a Cholesky factorisation costs (m/3), that step and the rest are solved by
 *   Cholesky, O(m³). Factor C = UUᵀ + D: H is diagonal plus rank r, solved by Woodbury in O(m·r²).
 *   Steps are safeguarded: halved until x stays positive and, outside the region of quadratic
 *   convergence (Newton decrement λ > 0.25), until f decreases by Armijo's rule.
 * - Cyclical coordinate descent (Griveau-Billion, Richard & Roncalli 2013): each coordinate solves its
 *   quadratic exactly, O(m) dense or O(r) factor per coordinate. A few sweeps warm-start Newton cheaply;
 *   it is also the fallback if Newton stops short of the tolerance.
 */
import { cholesky, choleskySolve, conjugateGradient, diagonalPlusLowRankSolver, dot, matVec } from '../linalg';
import { type DenseScaledCovariance, type FactorScaledCovariance, type ScaledCovariance, scaledTimes } from './scaledCovariance';

/** How Newton's linear systems H·d = g were solved. */
export const NEWTON_SYSTEMS = ['conjugate-gradient', 'cholesky', 'woodbury'] as const;
export type NewtonSystem = (typeof NEWTON_SYSTEMS)[number];
/** The choice for a dense C ('woodbury' is what a factor C always uses). */
export type DenseNewtonSystem = Exclude<NewtonSystem, 'woodbury'>;

export interface SpinuState {
  readonly x: Float64Array;
  /** C·x. */
  readonly cx: Float64Array;
  /** max_i |x_i(Cx)_i / xᵀCx − b_i| at x. */
  readonly error: number;
}

export interface NewtonOutcome extends SpinuState {
  readonly iterations: number;
  readonly conjugateGradientIterations: number;
  /** The method that solved the last step. */
  readonly system: NewtonSystem;
}

export interface NewtonOptions {
  /** Stop when the budget error is below this. */
  readonly target: number;
  /** Once below it, a step that does not improve the error ends the iteration (rounding level). */
  readonly tolerance: number;
  readonly maxIterations: number;
  readonly denseSystem: DenseNewtonSystem;
}

/** Inside this Newton decrement a full step converges quadratically for a self-concordant f (Boyd & Vandenberghe §9.6). */
const QUADRATIC_REGION = 0.25;
const ARMIJO = 1e-4;
const SMALLEST_STEP = 1e-12;

/** x0 = √b/√(√bᵀC√b): the best multiple of √b (exact when C = I); Spinu's 1/√(1ᵀC1)·1 for equal budgets. */
export function startingPoint(c: ScaledCovariance, b: Float64Array): Float64Array {
  const x = b.map(Math.sqrt);
  const scale = 1 / Math.sqrt(dot(x, scaledTimes(c, x)));
  for (let i = 0; i < x.length; i++) x[i] *= scale;
  return x;
}

export function budgetErrorOf(x: Float64Array, cx: Float64Array, b: Float64Array): number {
  const variance = dot(x, cx);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] * cx[i]) / variance - b[i]);
    if (!(d <= worst)) worst = d; // NaN propagates as the worst error
  }
  return worst;
}

/** Newton from a start (left untouched). */
export function spinuNewton(c: ScaledCovariance, b: Float64Array, start: SpinuState, opts: NewtonOptions): NewtonOutcome {
  const m = b.length;
  const x = Float64Array.from(start.x);
  const cx = Float64Array.from(start.cx);
  let exact = true;
  const g = new Float64Array(m);
  const h = new Float64Array(m);
  const d = new Float64Array(m);
  const cd = new Float64Array(m);
  let error = start.error;
  let iterations = 0;
  let conjugateGradientIterations = 0;
  let system: NewtonSystem = c.form === 'factor' ? 'woodbury' : opts.denseSystem;
  while (iterations < opts.maxIterations) {
    if (error < opts.target) {
      if (exact) break;
      // C·x is updated from C·d between steps; confirm convergence on an exact product.
      scaledTimes(c, x, cx);
      exact = true;
      error = budgetErrorOf(x, cx, b);
      if (error < opts.target) break;
    }
    iterations++;
    for (let i = 0; i < m; i++) {
      g[i] = cx[i] - b[i] / x[i];
      h[i] = b[i] / (x[i] * x[i]);
    }
    const step = newtonDirection(c, h, g, d, cd, forcingTerm(error, opts.target), system);
    if (!step) break;
    system = step.system;
    conjugateGradientIterations += step.conjugateGradientIterations;
    const decrement = dot(g, d);
    if (!(decrement > 0)) break;
    const t = stepLength(x, cx, d, cd, b, decrement);
    if (t === 0) break;
    const next = x.map((v, i) => v - t * d[i]);
    const nextCx = cx.map((v, i) => v - t * cd[i]);
    const nextError = budgetErrorOf(next, nextCx, b);
    if (error < opts.tolerance && !(nextError < error)) break;
    x.set(next);
    cx.set(nextCx);
    exact = false;
    error = nextError;
  }
  if (!exact) {
    scaledTimes(c, x, cx);
    error = budgetErrorOf(x, cx, b);
  }
  return { x, cx, error, iterations, conjugateGradientIterations, system };
}

/**
 * CG's relative residual for a step: loose far from the solution, where an exact step would be wasted;
 * proportional to the budget error near it, which keeps Newton's fast local convergence; and no tighter
 * than the last step needs to land below the target (the error after a step is about residual × error).
 */
function forcingTerm(error: number, target: number): number {
  return Math.min(0.5, Math.max(10 * error, (0.1 * target) / error, 1e-12));
}

interface Direction {
  readonly system: NewtonSystem;
  readonly conjugateGradientIterations: number;
}

/** Solves (C + diag(h))·d = g into d and sets cd = C·d; undefined when H is not numerically positive definite. */
function newtonDirection(
  c: ScaledCovariance,
  h: Float64Array,
  g: Float64Array,
  d: Float64Array,
  cd: Float64Array,
  forcing: number,
  system: NewtonSystem,
): Direction | undefined {
  switch (c.form) {
    case 'factor':
      return woodburyDirection(c, h, g, d, cd);
    case 'dense':
      if (system === 'conjugate-gradient') {
        const iterations = conjugateGradientDirection(c, h, g, d, cd, forcing);
        if (iterations !== undefined) return { system, conjugateGradientIterations: iterations };
      }
      return choleskyDirection(c, h, g, d, cd);
  }
}

/** CG iterations, or undefined when CG would cost more than a Cholesky factorisation (then Cholesky takes over). */
function conjugateGradientDirection(
  c: DenseScaledCovariance,
  h: Float64Array,
  g: Float64Array,
  d: Float64Array,
  cd: Float64Array,
  forcing: number,
): number | undefined {
  const m = c.size;
  const inverseDiagonal = Float64Array.from(h, (hi, i) => 1 / (c.values[i * m + i] * c.scale[i] ** 2 + hi));
  const apply = (p: Float64Array, out: Float64Array): void => {
    scaledTimes(c, p, out);
    for (let i = 0; i < m; i++) out[i] += h[i] * p[i];
  };
  // cd first receives H·d, summed from CG's own products; C·d = H·d − h∘d needs no further product.
  const outcome = conjugateGradient(apply, inverseDiagonal, g, d, {
    relativeTolerance: forcing,
    maxIterations: Math.max(10, Math.ceil(m / 3)),
    product: cd,
  });
  if (!outcome.converged) return undefined;
  for (let i = 0; i < m; i++) cd[i] -= h[i] * d[i];
  return outcome.iterations;
}

function choleskyDirection(
  c: DenseScaledCovariance,
  h: Float64Array,
  g: Float64Array,
  d: Float64Array,
  cd: Float64Array,
): Direction | undefined {
  const m = c.size;
  const { values, scale } = c;
  const hessian = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) hessian[i * m + j] = values[i * m + j] * scale[i] * scale[j];
    hessian[i * m + i] += h[i];
  }
  const factor = cholesky(hessian, m);
  if (!factor) return undefined;
  d.set(choleskySolve(factor, g, m));
  scaledTimes(c, d, cd);
  return { system: 'cholesky', conjugateGradientIterations: 0 };
}

function woodburyDirection(
  c: FactorScaledCovariance,
  h: Float64Array,
  g: Float64Array,
  d: Float64Array,
  cd: Float64Array,
): Direction | undefined {
  const solve = diagonalPlusLowRankSolver(
    c.specific.map((s, i) => s + h[i]),
    c.u,
    c.rank,
  );
  if (!solve) return undefined;
  solve(g, d);
  scaledTimes(c, d, cd);
  return { system: 'woodbury', conjugateGradientIterations: 0 };
}

/**
 * The largest t in {1, ½, ¼, …} that keeps x − t·d > 0 and, outside the quadratic region, lowers f by
 * at least ARMIJO·t·λ². Trial points cost O(m): C·(x − t·d) = Cx − t·Cd. 0 when no t above 1e-12 does.
 * Inside the region f's decrease is below rounding near the solution, so only positivity is checked.
 */
function stepLength(x: Float64Array, cx: Float64Array, d: Float64Array, cd: Float64Array, b: Float64Array, decrement: number): number {
  const m = x.length;
  const checkDecrease = Math.sqrt(decrement) > QUADRATIC_REGION;
  const f0 = checkDecrease ? objective(x, cx, b) : 0;
  for (let t = 1; t > SMALLEST_STEP; t /= 2) {
    let inside = true;
    for (let i = 0; i < m && inside; i++) inside = x[i] - t * d[i] > 0;
    if (!inside) continue;
    if (!checkDecrease) return t;
    let f = 0;
    for (let i = 0; i < m; i++) {
      const xi = x[i] - t * d[i];
      f += 0.5 * xi * (cx[i] - t * cd[i]) - b[i] * Math.log(xi);
    }
    if (f <= f0 - ARMIJO * t * decrement) return t;
  }
  return 0;
}

function objective(x: Float64Array, cx: Float64Array, b: Float64Array): number {
  let f = 0;
  for (let i = 0; i < x.length; i++) f += 0.5 * x[i] * cx[i] - b[i] * Math.log(x[i]);
  return f;
}

/** Cyclical coordinate descent from x0 (left untouched) until the budget error is below `tolerance` or `maxSweeps`. */
export function coordinateDescent(
  c: ScaledCovariance,
  b: Float64Array,
  x0: Float64Array,
  tolerance: number,
  maxSweeps: number,
): SpinuState & { sweeps: number } {
  const x = Float64Array.from(x0);
  const sweeper = c.form === 'dense' ? denseSweeper(c, b, x) : factorSweeper(c, b, x);
  let cx = sweeper.product();
  let error = budgetErrorOf(x, cx, b);
  let sweeps = 0;
  while (!(error < tolerance) && sweeps < maxSweeps) {
    sweeps++;
    sweeper.sweep();
    // Incremental updates drift; resynchronise now and then so they cannot hide below the tolerance.
    if (sweeps % 50 === 0) sweeper.resynchronise();
    cx = sweeper.product();
    error = budgetErrorOf(x, cx, b);
  }
  return { x, cx, error, sweeps };
}

interface Sweeper {
  /** One pass over the coordinates, each set to the positive root of C_ii·x_i² + (Cx − C_ii·x_i)_i·x_i = b_i. */
  sweep(): void;
  resynchronise(): void;
  /** C·x at the current x. */
  product(): Float64Array;
}

/** The positive root of cii·v² + others·v − bi = 0, written to avoid cancellation when others > 0. */
function coordinateRoot(cii: number, others: number, bi: number): number {
  const root = Math.sqrt(others * others + 4 * cii * bi);
  return others > 0 ? (2 * bi) / (others + root) : (root - others) / (2 * cii);
}

/**
 * Keeps y = Σ·(S⁻¹x), so (Cx)_i = y_i/σ_i, updating y along row i of Σ (symmetric) when x_i moves: O(m)
 * per coordinate.
 */
function denseSweeper(c: DenseScaledCovariance, b: Float64Array, x: Float64Array): Sweeper {
  const { size: m, values, scale } = c;
  const y = new Float64Array(m);
  const resynchronise = (): void =>
    void matVec(
      values,
      x.map((v, i) => v * scale[i]),
      m,
      y,
    );
  resynchronise();
  return {
    sweep() {
      for (let i = 0; i < m; i++) {
        const row = i * m;
        const si = scale[i];
        const cii = values[row + i] * si * si;
        const delta = coordinateRoot(cii, y[i] * si - cii * x[i], b[i]) - x[i];
        if (delta === 0) continue;
        const shift = delta * si;
        for (let k = 0; k < m; k++) y[k] += values[row + k] * shift;
        x[i] += delta;
      }
    },
    resynchronise,
    product: () => y.map((v, i) => v * scale[i]),
  };
}

/** Keeps the factor exposures z = Uᵀx, so (Cx)_i = U_i·z + D_i·x_i and a move of x_i costs O(r). */
function factorSweeper(c: FactorScaledCovariance, b: Float64Array, x: Float64Array): Sweeper {
  const { size: m, rank: r, u, specific } = c;
  const z = new Float64Array(r);
  const diagonal = Float64Array.from(specific, (s, i) => {
    let d = s;
    for (let a = 0; a < r; a++) d += u[i * r + a] ** 2;
    return d;
  });
  const resynchronise = (): void => {
    z.fill(0);
    for (let i = 0; i < m; i++) for (let a = 0; a < r; a++) z[a] += u[i * r + a] * x[i];
  };
  resynchronise();
  return {
    sweep() {
      for (let i = 0; i < m; i++) {
        const row = i * r;
        let cxi = specific[i] * x[i];
        for (let a = 0; a < r; a++) cxi += u[row + a] * z[a];
        const delta = coordinateRoot(diagonal[i], cxi - diagonal[i] * x[i], b[i]) - x[i];
        if (delta === 0) continue;
        for (let a = 0; a < r; a++) z[a] += u[row + a] * delta;
        x[i] += delta;
      }
    },
    resynchronise,
    product: () => scaledTimes(c, x),
  };
}
