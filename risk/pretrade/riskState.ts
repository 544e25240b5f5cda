/**
 * The gate's ex-ante risk state of one portfolio: the worst-case exposure vector x (currency, per
 * budgeted asset), Σ·x, the book's variance V = xᵀΣx and each strategy's Euler risk contribution
 * RC_s = x_sᵀΣx (x_s: the strategy's own exposure vector, Σ_s x_s = x), all maintained incrementally.
 *
 * A reservation, fill or release that moves asset i's worst-case exposure by δ updates them in O(n)
 * for a dense Σ (add δ·Σ[:, i]). In factor form Σx is never stored: the vectors keep F·Bᵀx (k numbers),
 * so a move costs O(k²) and (Σx)ᵢ = Bᵢ·(F·Bᵀx) + Dᵢ·xᵢ costs O(k) — independent of n. Contributions
 * add O(strategies) (×k in factor form). A check then costs O(1) (O(k) in factor form): for a move δ of
 * asset i,
 *   V'    = V + 2δ·(Σx)ᵢ + δ²·Σᵢᵢ
 *   RC_s' = RC_s + δ·((Σx)ᵢ + (Σx_s)ᵢ) + δ²·Σᵢᵢ
 *
 * Units: Σ is the annualized covariance of returns, x is in currency, so V is an annualized variance
 * of P&L in currency²; √V / capital is the book's ex-ante vol as a fraction of capital.
 */
import type { CovarianceMatrix } from '../covariance';
import { type FactorCovariance, isFactorCovariance } from '../factorModel';

/** Σ in the form the updates need: one column and the diagonal, without forming n² for a factor model. */
export class CovarianceKernel {
  readonly n: number;
  readonly assetIndex: ReadonlyMap<string, number>;
  readonly diagonal: Float64Array;
  /** Row-major n×n for a dense Σ. */
  readonly dense: Float64Array | undefined;
  /** The factor form, when Σ = B·F·Bᵀ + D. */
  readonly factor: FactorCovariance | undefined;
  /** Scratch for a factor-form column (the request path allocates nothing). */
  private readonly scratch: Float64Array;
  private readonly loadingScratch: Float64Array;

  constructor(model: CovarianceMatrix | FactorCovariance) {
    this.n = model.assets.length;
    this.assetIndex = new Map(model.assets.map((a, i) => [a, i]));
    this.diagonal = new Float64Array(this.n);
    this.scratch = new Float64Array(this.n);
    if (isFactorCovariance(model)) {
      this.factor = model;
      const k = model.factors.length;
      this.loadingScratch = new Float64Array(k);
      for (let i = 0; i < this.n; i++) {
        const g = this.factorTimesLoading(i);
        let d = model.specificVariances[i];
        for (let j = 0; j < k; j++) d += model.loadings[i * k + j] * g[j];
        this.diagonal[i] = d;
      }
    } else {
      this.dense = model.values;
      this.loadingScratch = new Float64Array(0);
      for (let i = 0; i < this.n; i++) this.diagonal[i] = model.values[i * this.n + i];
    }
  }

  /** Σ[:, i] (a view for dense Σ, a shared scratch for the factor form: read it before the next call). */
  column(i: number): Float64Array {
    const n = this.n;
    if (this.dense) return this.dense.subarray(i * n, (i + 1) * n); // symmetric: row i = column i
    const f = this.factor!;
    const k = f.factors.length;
    const g = this.factorTimesLoading(i);
    const out = this.scratch;
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += f.loadings[r * k + j] * g[j];
      out[r] = s;
    }
    out[i] += f.specificVariances[i];
    return out;
  }

  /** Σ·x from scratch: O(n²) dense, O(n·k) factor. */
  times(x: Float64Array): Float64Array {
    const n = this.n;
    const out = new Float64Array(n);
    if (this.dense) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += this.dense[r * n + c] * x[c];
        out[r] = s;
      }
      return out;
    }
    const f = this.factor!;
    const k = f.factors.length;
    const y = new Float64Array(k); // Bᵀx
    for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) y[j] += f.loadings[r * k + j] * x[r];
    const fy = new Float64Array(k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) fy[a] += f.factorCovariance[a * k + b] * y[b];
    for (let r = 0; r < n; r++) {
      let s = f.specificVariances[r] * x[r];
      for (let j = 0; j < k; j++) s += f.loadings[r * k + j] * fy[j];
      out[r] = s;
    }
    return out;
  }

  /** F·B[i, :]ᵀ (k numbers, a shared scratch). */
  factorTimesLoading(i: number): Float64Array {
    const f = this.factor!;
    const k = f.factors.length;
    const g = this.loadingScratch;
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += f.factorCovariance[a * k + b] * f.loadings[i * k + b];
      g[a] = s;
    }
    return g;
  }
}

/** One strategy's exposure vector, its Σ·x_s (dense) or F·Bᵀx_s (factor), and its contribution x_sᵀΣx. */
export interface StrategyRisk {
  readonly x: Float64Array;
  /** Dense: Σ·x_s (n). Factor: F·Bᵀx_s (k). */
  readonly carried: Float64Array;
  contribution: number;
}

export class RiskVectors {
  readonly x: Float64Array;
  /** Dense: Σ·x (n). Factor: F·Bᵀx (k). Read through `sigmaXAt`. */
  private readonly carried: Float64Array;
  variance = 0;
  private readonly byStrategy = new Map<string, StrategyRisk>();
  private readonly k: number;

  constructor(readonly kernel: CovarianceKernel) {
    this.x = new Float64Array(kernel.n);
    this.k = kernel.factor ? kernel.factor.factors.length : 0;
    this.carried = new Float64Array(kernel.factor ? this.k : kernel.n);
  }

  strategy(name: string): StrategyRisk | undefined {
    return this.byStrategy.get(name);
  }

  strategies(): IterableIterator<[string, StrategyRisk]> {
    return this.byStrategy.entries();
  }

  /** (Σx)ᵢ: O(1) dense, O(k) factor. */
  sigmaXAt(i: number): number {
    return this.at(this.carried, this.x, i);
  }

  /** (Σx_s)ᵢ for one strategy. */
  strategySigmaXAt(s: StrategyRisk, i: number): number {
    return this.at(s.carried, s.x, i);
  }

  /** Asset i's worst-case exposure of `strategy` moves by δ (currency): O(n) dense, O(k²) factor. */
  move(strategy: string, i: number, delta: number): void {
    if (delta === 0) return;
    const own = this.ensure(strategy);
    const sii = this.kernel.diagonal[i];
    const sxi = this.sigmaXAt(i);
    // Contributions first, from the vectors before the move.
    for (const s of this.byStrategy.values()) s.contribution += delta * this.strategySigmaXAt(s, i);
    own.contribution += delta * sxi + delta * delta * sii;
    this.variance += 2 * delta * sxi + delta * delta * sii;
    // Dense: the carried vectors move by δ·Σ[:, i]; factor: by δ·F·Bᵢᵀ.
    const step = this.kernel.factor ? this.kernel.factorTimesLoading(i) : this.kernel.column(i);
    const total = this.carried;
    const mine = own.carried;
    for (let r = 0; r < step.length; r++) {
      const c = delta * step[r];
      total[r] += c;
      mine[r] += c;
    }
    this.x[i] += delta;
    own.x[i] += delta;
  }

  /** Replace everything by exposures given from scratch (repricing, reconciliation; clears drift). */
  reset(exposures: Iterable<{ strategy: string; index: number; value: number }>): void {
    this.x.fill(0);
    this.byStrategy.clear();
    for (const e of exposures) {
      if (e.value === 0) continue;
      this.x[e.index] += e.value;
      this.ensure(e.strategy).x[e.index] += e.value;
    }
    this.carried.set(this.carry(this.x));
    const sigmaX = this.kernel.times(this.x);
    this.variance = dot(this.x, sigmaX);
    for (const s of this.byStrategy.values()) {
      s.carried.set(this.carry(s.x));
      s.contribution = dot(s.x, sigmaX);
    }
  }

  /** xᵀΣx recomputed from the exposure vector alone (tests and drift checks; O(n²) dense). */
  directVariance(): number {
    return dot(this.x, this.kernel.times(this.x));
  }

  private at(carried: Float64Array, x: Float64Array, i: number): number {
    const f = this.kernel.factor;
    if (!f) return carried[i];
    const k = this.k;
    let s = f.specificVariances[i] * x[i];
    for (let j = 0; j < k; j++) s += f.loadings[i * k + j] * carried[j];
    return s;
  }

  /** What is carried for x: Σ·x dense, F·Bᵀx factor. */
  private carry(x: Float64Array): Float64Array {
    const f = this.kernel.factor;
    if (!f) return this.kernel.times(x);
    const k = this.k;
    const y = new Float64Array(k);
    for (let r = 0; r < x.length; r++) {
      if (x[r] === 0) continue;
      for (let j = 0; j < k; j++) y[j] += f.loadings[r * k + j] * x[r];
    }
    const fy = new Float64Array(k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) fy[a] += f.factorCovariance[a * k + b] * y[b];
    return fy;
  }

  private ensure(strategy: string): StrategyRisk {
    let s = this.byStrategy.get(strategy);
    if (!s) {
      s = { x: new Float64Array(this.kernel.n), carried: new Float64Array(this.carried.length), contribution: 0 };
      this.byStrategy.set(strategy, s);
    }
    return s;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
