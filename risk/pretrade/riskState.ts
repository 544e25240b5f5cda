/**
 * The gate's ex-ante risk state of one portfolio: the worst-case exposure vector x (currency, per
 * budgeted asset), Σ·x, the book's variance V = xᵀΣx and each strategy's Euler risk contribution
 * RC_s = x_sᵀΣx (x_s: the strategy's own exposure vector, Σ_s x_s = x), all maintained incrementally.
 * A check then costs O(1) (O(k) in factor form): for a move δ of asset i,
 *   V'    = V + 2δ·(Σx)ᵢ + δ²·Σᵢᵢ
 *   RC_s' = RC_s + δ·((Σx)ᵢ + (Σx_s)ᵢ) + δ²·Σᵢᵢ
 *
 * A reservation, fill or release moving asset i's worst-case exposure by δ:
 * - Factor form (Σ = B·F·Bᵀ + D): Σx is never stored. Each strategy carries F·Bᵀx_s (k numbers), so a
 *   move adds δ·(B·F)[i, :] — O(k), B·F precomputed — and (Σx_s)ᵢ = Bᵢ·(F·Bᵀx_s) + Dᵢ·x_sᵢ is O(k).
 * - Dense: each strategy carries Σx_s (n numbers; Σx = Σ_s Σx_s is read in O(strategies), so a move
 *   touches one n-vector, not two). Its O(n) part, δ·Σ[i, :] into Σx_s, is deferred: V, RC_s and x are
 *   updated at once (exact), the move is queued, and every read of (Σx_s)ᵢ adds the queued moves' δ·Σⱼᵢ
 *   (O(queued)). So the next decision sees this one exactly, whether or not the queue was applied.
 *   `settle()` applies the queue off the answer path (the gate calls it once the event loop is free);
 *   a full queue applies its oldest move on the spot, so a burst costs what an undeferred update would.
 *
 * Drift: V and RC_s accumulate one rounding per move, Σx_s one per queued axpy. `settle()` rebuilds
 * everything from x_s every REBUILD_PER_ASSET·n moves (cost O(n·nnz(x)) dense, O(n·k) factor, so
 * amortized O(nnz(x)/32) per move), which bounds the drift to that many moves; reprice and
 * reconciliation rebuild too.
 *
 * Units: Σ is the annualized covariance of returns, x is in currency, so V is an annualized variance
 * of P&L in currency²; √V / capital is the book's ex-ante vol as a fraction of capital.
 */
import type { CovarianceMatrix } from '../covariance';
import { type FactorCovariance, isFactorCovariance } from '../factorModel';

/** Dense moves queued before the oldest is applied on the request path. */
const QUEUE = 16;
/** settle() rebuilds from scratch after this many moves per asset (drift control). */
const REBUILD_PER_ASSET = 32;

/** Σ in the forms the updates need, without forming n² for a factor model. */
export class CovarianceKernel {
  readonly n: number;
  /** Number of factors (0 for a dense Σ). */
  readonly k: number;
  readonly assetIndex: ReadonlyMap<string, number>;
  readonly diagonal: Float64Array;
  /** Row-major n×n for a dense Σ. */
  readonly dense: Float64Array | undefined;
  /** The factor form, when Σ = B·F·Bᵀ + D. */
  readonly factor: FactorCovariance | undefined;
  /** Factor form: B·F, row-major n×k; row i is how F·Bᵀx moves per unit of xᵢ. */
  readonly loadingsTimesF: Float64Array;

  constructor(model: CovarianceMatrix | FactorCovariance) {
    const n = model.assets.length;
    this.n = n;
    this.assetIndex = new Map(model.assets.map((a, i) => [a, i]));
    this.diagonal = new Float64Array(n);
    if (isFactorCovariance(model)) {
      const k = model.factors.length;
      this.factor = model;
      this.k = k;
      this.loadingsTimesF = new Float64Array(n * k);
      const { loadings: B, factorCovariance: F } = model;
      for (let i = 0; i < n; i++) {
        let d = model.specificVariances[i];
        for (let a = 0; a < k; a++) {
          let s = 0;
          for (let b = 0; b < k; b++) s += B[i * k + b] * F[b * k + a];
          this.loadingsTimesF[i * k + a] = s;
          d += B[i * k + a] * s;
        }
        this.diagonal[i] = d;
      }
    } else {
      this.dense = model.values;
      this.k = 0;
      this.loadingsTimesF = new Float64Array(0);
      for (let i = 0; i < n; i++) this.diagonal[i] = model.values[i * n + i];
    }
  }

  /** Σ·x from scratch: O(n·nnz(x)) dense (by rows of the nonzero entries; Σ is symmetric), O(n·k) factor. */
  times(x: Float64Array): Float64Array {
    const n = this.n;
    const out = new Float64Array(n);
    if (this.dense) {
      for (let j = 0; j < n; j++) if (x[j] !== 0) axpy(out, x[j], this.dense, j * n, n);
      return out;
    }
    const f = this.factor!;
    const fy = this.factorCarry(x);
    const k = this.k;
    for (let r = 0; r < n; r++) {
      let s = f.specificVariances[r] * x[r];
      for (let j = 0; j < k; j++) s += f.loadings[r * k + j] * fy[j];
      out[r] = s;
    }
    return out;
  }

  /** F·Bᵀx (k numbers): Σ_i xᵢ·(B·F)[i, :]. */
  factorCarry(x: Float64Array): Float64Array {
    const k = this.k;
    const out = new Float64Array(k);
    for (let i = 0; i < this.n; i++) if (x[i] !== 0) axpy(out, x[i], this.loadingsTimesF, i * k, k);
    return out;
  }

  /** Bᵢ·c + Dᵢ·xᵢ: (Σx)ᵢ in factor form from c = F·Bᵀx. */
  factorSigmaXAt(c: Float64Array, xi: number, i: number): number {
    const f = this.factor!;
    const k = this.k;
    let s = f.specificVariances[i] * xi;
    for (let j = 0; j < k; j++) s += f.loadings[i * k + j] * c[j];
    return s;
  }
}

/** One strategy's exposure vector, what it carries of Σ·x_s, and its contribution x_sᵀΣx. */
export interface StrategyRisk {
  readonly x: Float64Array;
  /** Dense: Σ·x_s (n) without the queued moves. Factor: F·Bᵀx_s (k). */
  readonly carried: Float64Array;
  contribution: number;
  /** Position in the vectors' strategy list (tags its queued moves). */
  readonly slot: number;
}

export class RiskVectors {
  readonly x: Float64Array;
  variance = 0;
  private readonly byStrategy = new Map<string, StrategyRisk>();
  private readonly list: StrategyRisk[] = [];
  /** Factor form: F·Bᵀx (k), the sum of the strategies' carried vectors. */
  private readonly factorTotal: Float64Array;
  /** (Σx_s)ᵢ per slot, filled by `sigmaXBySlot`. */
  private bySlot = new Float64Array(4);
  /** Dense: moves not yet applied to the carried Σx_s, a ring of asset, δ, strategy slot. */
  private readonly queuedAsset = new Int32Array(QUEUE);
  private readonly queuedDelta = new Float64Array(QUEUE);
  private readonly queuedSlot = new Int32Array(QUEUE);
  private queueStart = 0;
  private queued = 0;
  private movesSinceRebuild = 0;

  constructor(readonly kernel: CovarianceKernel) {
    this.x = new Float64Array(kernel.n);
    this.factorTotal = new Float64Array(kernel.k);
  }

  strategy(name: string): StrategyRisk | undefined {
    return this.byStrategy.get(name);
  }

  strategies(): IterableIterator<[string, StrategyRisk]> {
    return this.byStrategy.entries();
  }

  /** Moves applied to V and the contributions whose O(n) part waits for `settle()`. */
  get unsettled(): number {
    return this.queued;
  }

  /** (Σx)ᵢ: O(strategies + queued) dense, O(k) factor. */
  sigmaXAt(i: number): number {
    const kernel = this.kernel;
    if (kernel.factor) return kernel.factorSigmaXAt(this.factorTotal, this.x[i], i);
    let s = 0;
    for (const st of this.list) s += st.carried[i];
    return s + this.queuedAt(i, -1);
  }

  /** (Σx_s)ᵢ for one strategy: O(queued) dense, O(k) factor. */
  strategySigmaXAt(s: StrategyRisk, i: number): number {
    const kernel = this.kernel;
    if (kernel.factor) return kernel.factorSigmaXAt(s.carried, s.x[i], i);
    return s.carried[i] + this.queuedAt(i, s.slot);
  }

  /** Asset i's worst-case exposure of `strategy` moves by δ (currency): O(strategies + queued) dense, O(strategies·k) factor. */
  move(strategy: string, i: number, delta: number): void {
    if (delta === 0) return;
    const own = this.ensure(strategy);
    const sii = this.kernel.diagonal[i];
    const sxi = this.sigmaXBySlot(i);
    // Contributions and V from the vectors before the move.
    for (const s of this.list) s.contribution += delta * this.bySlot[s.slot];
    own.contribution += delta * sxi + delta * delta * sii;
    this.variance += 2 * delta * sxi + delta * delta * sii;
    this.x[i] += delta;
    own.x[i] += delta;
    this.movesSinceRebuild++;
    const kernel = this.kernel;
    if (kernel.factor) {
      axpy(this.factorTotal, delta, kernel.loadingsTimesF, i * kernel.k, kernel.k);
      axpy(own.carried, delta, kernel.loadingsTimesF, i * kernel.k, kernel.k);
      return;
    }
    if (this.queued === QUEUE) this.applyOldest();
    const at = (this.queueStart + this.queued) % QUEUE;
    this.queuedAsset[at] = i;
    this.queuedDelta[at] = delta;
    this.queuedSlot[at] = own.slot;
    this.queued++;
  }

  /**
   * Applies the queued dense moves to the carried vectors (O(n) each), and rebuilds from scratch when
   * due (drift control). Off the answer path: nothing a check reads changes value. True when it did work.
   */
  settle(): boolean {
    const worked = this.queued > 0;
    while (this.queued > 0) this.applyOldest();
    if (this.movesSinceRebuild < REBUILD_PER_ASSET * this.kernel.n) return worked;
    this.rebuild();
    return true;
  }

  /** Replace everything by exposures given from scratch (repricing, reconciliation; clears drift). */
  reset(exposures: Iterable<{ strategy: string; index: number; value: number }>): void {
    this.x.fill(0);
    this.byStrategy.clear();
    this.list.length = 0;
    for (const e of exposures) {
      if (e.value === 0) continue;
      this.x[e.index] += e.value;
      this.ensure(e.strategy).x[e.index] += e.value;
    }
    this.rebuild();
  }

  /** xᵀΣx recomputed from the exposure vector alone (tests and drift checks; O(n·nnz(x)) dense). */
  directVariance(): number {
    return dot(this.x, this.kernel.times(this.x));
  }

  /** Everything derived from the x_s recomputed from scratch; the queue is dropped (now included). */
  private rebuild(): void {
    this.queued = 0;
    this.queueStart = 0;
    this.movesSinceRebuild = 0;
    const kernel = this.kernel;
    this.x.fill(0);
    for (const s of this.list) for (let i = 0; i < this.x.length; i++) this.x[i] += s.x[i];
    const sigmaX = kernel.times(this.x);
    this.variance = dot(this.x, sigmaX);
    this.factorTotal.set(kernel.factor ? kernel.factorCarry(this.x) : []);
    for (const s of this.list) {
      s.carried.set(kernel.factor ? kernel.factorCarry(s.x) : kernel.times(s.x));
      s.contribution = dot(s.x, sigmaX);
    }
  }

  /** Fills `bySlot` with (Σx_s)ᵢ of every strategy and returns their sum (Σx)ᵢ. */
  private sigmaXBySlot(i: number): number {
    const by = this.bySlot;
    let total = 0;
    for (const s of this.list) {
      const v = this.kernel.factor ? this.kernel.factorSigmaXAt(s.carried, s.x[i], i) : s.carried[i];
      by[s.slot] = v;
      total += v;
    }
    if (this.kernel.factor || this.queued === 0) return total;
    const dense = this.kernel.dense!;
    const n = this.kernel.n;
    for (let q = 0; q < this.queued; q++) {
      const at = (this.queueStart + q) % QUEUE;
      const c = this.queuedDelta[at] * dense[this.queuedAsset[at] * n + i];
      by[this.queuedSlot[at]] += c;
      total += c;
    }
    return total;
  }

  /** Σ over queued moves (of `slot`, or all for −1) of δ·Σⱼᵢ. */
  private queuedAt(i: number, slot: number): number {
    if (this.queued === 0) return 0;
    const dense = this.kernel.dense!;
    const n = this.kernel.n;
    let s = 0;
    for (let q = 0; q < this.queued; q++) {
      const at = (this.queueStart + q) % QUEUE;
      if (slot < 0 || this.queuedSlot[at] === slot) s += this.queuedDelta[at] * dense[this.queuedAsset[at] * n + i];
    }
    return s;
  }

  private applyOldest(): void {
    const at = this.queueStart;
    const n = this.kernel.n;
    axpy(this.list[this.queuedSlot[at]].carried, this.queuedDelta[at], this.kernel.dense!, this.queuedAsset[at] * n, n);
    this.queueStart = (at + 1) % QUEUE;
    this.queued--;
  }

  private ensure(strategy: string): StrategyRisk {
    let s = this.byStrategy.get(strategy);
    if (!s) {
      const kernel = this.kernel;
      s = {
        x: new Float64Array(kernel.n),
        carried: new Float64Array(kernel.factor ? kernel.k : kernel.n),
        contribution: 0,
        slot: this.list.length,
      };
      this.byStrategy.set(strategy, s);
      this.list.push(s);
      if (this.bySlot.length < this.list.length) this.bySlot = new Float64Array(2 * this.list.length);
    }
    return s;
  }
}

/** y += a·m[offset .. offset + len) (a row of a row-major matrix). */
function axpy(y: Float64Array, a: number, m: Float64Array, offset: number, len: number): void {
  for (let r = 0; r < len; r++) y[r] += a * m[offset + r];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
