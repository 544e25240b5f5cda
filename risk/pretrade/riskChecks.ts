/**
 * The ex-ante risk checks of one order, in O(1) over the maintained vectors (riskState.ts):
 * - VOL_LIMIT: the book's post-trade ex-ante vol above the budget's hard vol limit. An order that does
 *   not raise the book's variance always passes, whatever the level (pass iff V' ≤ max(L², V)).
 * - RISK_BUDGET: the post-trade risk contribution share of the order's strategy above its budget share
 *   plus tolerance, while the order raises that share (pass iff share' ≤ max(b + tol, share)).
 *   share = RC_s / max(V, V_budget), V_budget the variance of the budgeted book (see snapshot.ts).
 *
 * An order of q units moves the asset's worst-case exposure (exposures.ts) by Δ(q): 0 while the
 * opposite side's reservations still dominate (q < q0), then linearly, c0 + c1·q. Each condition is a
 * quadratic in Δ, hence in q on that segment, so SizePosition's largest passing quantity is a root.
 */
import type { Side } from '../kinds';
import { type PairExposure, worstCaseUnits } from './exposures';
import type { Reason } from './reasons';
import type { RiskVectors } from './riskState';
import type { SnapshotRisk } from './snapshot';

import type { RiskFigures } from './riskFigures';

export type { RiskFigures } from './riskFigures';

export interface RiskAssessment {
  /** The checks at quantity q: failing reasons (with their details) and the figures. */
  evaluate(q: number): { readonly failed: ReadonlyArray<{ reason: Reason; detail: string }>; readonly figures: RiskFigures };
  /** Largest quantity ≤ q both checks pass, and the check that bound it (undefined when q passes). */
  largest(q: number): { readonly quantity: number; readonly binding: Reason | undefined };
}

/** Relative slack so a size returned by `largest` passes `evaluate` (the root is exact up to rounding). */
const SLACK = 1e-9;

/** A quadratic a·t² + b·t + c; a condition passes where it is ≤ 0. */
interface Quadratic {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export function assessRisk(
  risk: SnapshotRisk,
  vectors: RiskVectors,
  strategy: string,
  assetIndex: number,
  side: Side,
  exposure: Pick<PairExposure, 'position' | 'reservedBuy' | 'reservedSell'>,
  price: number,
): RiskAssessment {
  return new OrderRisk(risk, vectors, strategy, assetIndex, side, exposure, price);
}

/**
 * One order's risk checks. Scalars read once from the vectors; methods, not closures, so a decision
 * allocates only its answer (the request path runs this per order).
 */
class OrderRisk implements RiskAssessment {
  private readonly sii: number;
  private readonly sxi: number;
  private readonly V: number;
  private readonly rc: number;
  private readonly ownSxi: number;
  private readonly share: number | undefined;
  private readonly shareBefore: number;
  private readonly volCap: number;
  private readonly shareCap: number;
  private readonly worstBefore: number;
  private readonly buy: boolean;

  constructor(
    private readonly risk: SnapshotRisk,
    vectors: RiskVectors,
    private readonly strategy: string,
    assetIndex: number,
    side: Side,
    private readonly exposure: Pick<PairExposure, 'position' | 'reservedBuy' | 'reservedSell'>,
    private readonly price: number,
  ) {
    this.sii = vectors.kernel.diagonal[assetIndex];
    this.sxi = vectors.sigmaXAt(assetIndex);
    this.V = vectors.variance;
    const own = vectors.strategy(strategy);
    this.rc = own?.contribution ?? 0;
    this.ownSxi = own ? vectors.strategySigmaXAt(own, assetIndex) : 0;
    this.share = risk.shares.get(strategy);
    const denominator = Math.max(this.V, risk.budgetVariance);
    this.shareBefore = denominator > 0 ? this.rc / denominator : 0;
    this.volCap = Math.max(risk.limitVariance, this.V);
    this.shareCap = this.share === undefined ? Infinity : Math.max(this.share + risk.tolerance, this.shareBefore);
    this.worstBefore = worstCaseUnits(exposure) * price;
    this.buy = side === 'BUY';
  }

  /** Δ(q): how far the order moves the asset's worst-case exposure (currency). */
  private deltaOf(q: number): number {
    const e = this.exposure;
    const high = e.position + e.reservedBuy + (this.buy ? q : 0);
    const low = e.position - e.reservedSell - (this.buy ? 0 : q);
    return (Math.abs(high) >= Math.abs(low) ? high : low) * this.price - this.worstBefore;
  }

  private varianceAfter(d: number): number {
    return this.V + 2 * d * this.sxi + d * d * this.sii;
  }

  private contributionAfter(d: number): number {
    return this.rc + d * (this.sxi + this.ownSxi) + d * d * this.sii;
  }

  private volPasses(d: number): boolean {
    return this.varianceAfter(d) <= this.volCap * (1 + SLACK);
  }

  private budgetPasses(d: number): boolean {
    const cap = this.shareCap;
    if (cap === Infinity) return true;
    const bv = this.risk.budgetVariance;
    return this.contributionAfter(d) <= cap * Math.max(this.varianceAfter(d), bv) + SLACK * Math.abs(cap) * Math.max(this.V, bv, 1);
  }

  private vol(variance: number): number {
    return Math.sqrt(Math.max(0, variance)) / this.risk.capital;
  }

  evaluate(q: number): { readonly failed: ReadonlyArray<{ reason: Reason; detail: string }>; readonly figures: RiskFigures } {
    const risk = this.risk;
    const d = this.deltaOf(q);
    const vAfter = this.varianceAfter(d);
    const figures: RiskFigures = {
      volBefore: this.vol(this.V),
      volAfter: this.vol(vAfter),
      volLimit: risk.volLimit,
      volTarget: risk.volTarget,
      contributionBefore: this.shareBefore,
      contributionAfter: this.contributionAfter(d) / Math.max(vAfter, risk.budgetVariance),
      contributionLimit: this.share === undefined ? Infinity : this.share + risk.tolerance,
    };
    const volFails = !this.volPasses(d);
    const budgetFails = !this.budgetPasses(d);
    if (!volFails && !budgetFails) return { failed: NONE_FAILED, figures };
    const failed: Array<{ reason: Reason; detail: string }> = [];
    if (volFails) {
      failed.push({
        reason: 'VOL_LIMIT',
        detail: `book ex-ante vol would rise from ${pct(figures.volBefore)} to ${pct(figures.volAfter)} above the limit ${pct(figures.volLimit)}`,
      });
    }
    if (budgetFails) {
      failed.push({
        reason: 'RISK_BUDGET',
        detail: `strategy "${this.strategy}" risk contribution would rise from ${pct(figures.contributionBefore)} to ${pct(figures.contributionAfter)} above its budget ${pct(figures.contributionLimit)}`,
      });
    }
    return { failed, figures };
  }

  largest(q: number): { readonly quantity: number; readonly binding: Reason | undefined } {
    const { sii, sxi, ownSxi, rc, V, volCap, shareCap } = this;
    // The two conditions as quadratics in Δ (pass where ≤ 0); RISK_BUDGET passes where either holds.
    const volConditions: Quadratic[] = [{ a: sii, b: 2 * sxi, c: V - volCap }];
    const budgetConditions: Quadratic[] =
      shareCap === Infinity
        ? []
        : [
            { a: sii * (1 - shareCap), b: sxi + ownSxi - 2 * shareCap * sxi, c: rc - shareCap * V },
            { a: sii, b: sxi + ownSxi, c: rc - shareCap * this.risk.budgetVariance },
          ];
    const volPasses = (d: number): boolean => this.volPasses(d);
    const budgetPasses = (d: number): boolean => this.budgetPasses(d);
    let quantity = q;
    let binding: Reason | undefined;
    // Each pass set is an interval (or two) in q: alternate until both hold at the same quantity.
    for (let round = 0; round < 8; round++) {
      const v = this.largestFor(volConditions, volPasses, quantity);
      if (v < quantity) binding = 'VOL_LIMIT';
      const b = this.largestFor(budgetConditions, budgetPasses, v);
      if (b < v) binding = 'RISK_BUDGET';
      if (b === quantity) return { quantity, binding };
      quantity = b;
    }
    const d = this.deltaOf(quantity);
    return this.volPasses(d) && this.budgetPasses(d) ? { quantity, binding } : { quantity: 0, binding: binding ?? 'VOL_LIMIT' };
  }

  /** Largest q ≤ hi where `passes` holds, from the conditions' roots in q. */
  private largestFor(conditions: readonly Quadratic[], passes: (d: number) => boolean, hi: number): number {
    if (conditions.length === 0 || passes(this.deltaOf(hi))) return hi;
    // Δ(q) in the order's mirrored frame (a buy): same-side worst, other side.
    const e = this.exposure;
    const sameSide = this.buy ? e.position + e.reservedBuy : -(e.position - e.reservedSell);
    const otherSide = this.buy ? e.position - e.reservedSell : -(e.position + e.reservedBuy);
    const q0 = Math.max(0, Math.abs(otherSide) - sameSide);
    const mirroredWorst = Math.abs(sameSide) >= Math.abs(otherSide) ? sameSide : otherSide;
    const sign = this.buy ? 1 : -1;
    const c1 = sign * this.price;
    const c0 = sign * (sameSide - mirroredWorst) * this.price;
    // Below q0 the worst case does not move: everything passes there.
    let best = -Infinity;
    if (hi >= q0) {
      for (const k of conditions) {
        const inQ = { a: k.a * c1 * c1, b: (2 * k.a * c0 + k.b) * c1, c: (k.a * c0 + k.b) * c0 + k.c };
        const root = largestNonPositive(inQ, q0, hi);
        if (root !== undefined && root > best) best = root;
      }
    }
    if (best === -Infinity) best = q0 > 0 ? Math.min(hi, q0 * (1 - 1e-12)) : 0;
    // Rounding at the root (or a tie in the worst case): step down until the exact test passes.
    for (let i = 0; i < 4 && best > 0 && !passes(this.deltaOf(best)); i++) best *= 1 - 1e-10 * 10 ** i;
    return best > 0 && passes(this.deltaOf(best)) ? best : 0;
  }
}

const NONE_FAILED: ReadonlyArray<{ reason: Reason; detail: string }> = Object.freeze([]);

/**
 * Largest t in [lo, hi] with a·t² + b·t + c ≤ 0, knowing it fails at hi; undefined when none.
 * Roots by the cancellation-free formula.
 */
export function largestNonPositive(k: Quadratic, lo: number, hi: number): number | undefined {
  const { a, b, c } = k;
  if (a === 0) {
    if (b > 0) {
      const r = -c / b;
      return r >= lo && r <= hi ? r : undefined;
    }
    return undefined;
  }
  const disc = b * b - 4 * a * c;
  if (!(disc >= 0)) return undefined;
  const t = -0.5 * (b + (b >= 0 ? 1 : -1) * Math.sqrt(disc));
  const roots = t === 0 ? [0, 0] : [t / a, c / t].sort((x, y) => x - y);
  // a > 0: passes on [r1, r2] and hi lies beyond r2 (or before r1); a < 0: fails on (r1, r2), hi inside.
  const candidate = a > 0 ? roots[1] : roots[0];
  return candidate >= lo && candidate <= hi ? candidate : undefined;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(3)}%` : String(x));

export interface RiskUtilization {
  readonly vol: number;
  readonly volTarget: number;
  readonly volLimit: number;
  readonly strategies: ReadonlyArray<{
    readonly strategy: string;
    readonly contribution: number;
    readonly budget: number;
    readonly limit: number;
  }>;
}

/**
 * The book's ex-ante vol and each budgeted strategy's risk share, read off the same vectors the checks
 * use (what GetUtilization reports); undefined without a usable risk model.
 */
export function riskUtilization(risk: SnapshotRisk | undefined, vectors: RiskVectors | undefined): RiskUtilization | undefined {
  if (!risk || !risk.kernel || !vectors || vectors.kernel !== risk.kernel) return undefined;
  const denominator = Math.max(vectors.variance, risk.budgetVariance);
  return {
    vol: Math.sqrt(Math.max(0, vectors.variance)) / risk.capital,
    volTarget: risk.volTarget,
    volLimit: risk.volLimit,
    strategies: [...risk.shares].map(([strategy, budget]) => ({
      strategy,
      contribution: denominator > 0 ? (vectors.strategy(strategy)?.contribution ?? 0) / denominator : 0,
      budget,
      limit: budget + risk.tolerance,
    })),
  };
}
