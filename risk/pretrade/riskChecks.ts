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
  const sii = vectors.kernel.diagonal[assetIndex];
  const sxi = vectors.sigmaXAt(assetIndex);
  const V = vectors.variance;
  const own = vectors.strategy(strategy);
  const rc = own?.contribution ?? 0;
  const ownSxi = own ? vectors.strategySigmaXAt(own, assetIndex) : 0;
  const share = risk.shares.get(strategy);
  const denominator = Math.max(V, risk.budgetVariance);
  const shareBefore = denominator > 0 ? rc / denominator : 0;
  const volCap = Math.max(risk.limitVariance, V);
  const shareCap = share === undefined ? Infinity : Math.max(share + risk.tolerance, shareBefore);
  const worstBefore = worstCaseUnits(exposure) * price;
  const buy = side === 'BUY';

  const deltaOf = (q: number): number => {
    const after = {
      position: exposure.position,
      reservedBuy: exposure.reservedBuy + (buy ? q : 0),
      reservedSell: exposure.reservedSell + (buy ? 0 : q),
    };
    return worstCaseUnits(after) * price - worstBefore;
  };
  const varianceAfter = (d: number): number => V + 2 * d * sxi + d * d * sii;
  const contributionAfter = (d: number): number => rc + d * (sxi + ownSxi) + d * d * sii;
  const volPasses = (d: number): boolean => varianceAfter(d) <= volCap * (1 + SLACK);
  const budgetPasses = (d: number): boolean => {
    if (shareCap === Infinity) return true;
    const after = contributionAfter(d);
    return (
      after <= shareCap * Math.max(varianceAfter(d), risk.budgetVariance) + SLACK * Math.abs(shareCap) * Math.max(V, risk.budgetVariance, 1)
    );
  };
  const vol = (variance: number): number => Math.sqrt(Math.max(0, variance)) / risk.capital;

  // The two conditions as quadratics in Δ (pass where ≤ 0); RISK_BUDGET passes where either holds.
  const volConditions: Quadratic[] = [{ a: sii, b: 2 * sxi, c: V - volCap }];
  const budgetConditions: Quadratic[] =
    shareCap === Infinity
      ? []
      : [
          { a: sii * (1 - shareCap), b: sxi + ownSxi - 2 * shareCap * sxi, c: rc - shareCap * V },
          { a: sii, b: sxi + ownSxi, c: rc - shareCap * risk.budgetVariance },
        ];

  // Δ(q) in the order's mirrored frame (a buy): a = same-side worst, b = other side.
  const sameSide = buy ? exposure.position + exposure.reservedBuy : -(exposure.position - exposure.reservedSell);
  const otherSide = buy ? exposure.position - exposure.reservedSell : -(exposure.position + exposure.reservedBuy);
  const q0 = Math.max(0, Math.abs(otherSide) - sameSide);
  const mirroredWorst = Math.abs(sameSide) >= Math.abs(otherSide) ? sameSide : otherSide;
  const sign = buy ? 1 : -1;
  const c1 = sign * price;
  const c0 = sign * (sameSide - mirroredWorst) * price;

  const largestFor = (conditions: readonly Quadratic[], passes: (d: number) => boolean, hi: number): number => {
    if (conditions.length === 0 || passes(deltaOf(hi))) return hi;
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
    for (let i = 0; i < 4 && best > 0 && !passes(deltaOf(best)); i++) best *= 1 - 1e-10 * 10 ** i;
    return best > 0 && passes(deltaOf(best)) ? best : 0;
  };

  return {
    evaluate(q) {
      const d = deltaOf(q);
      const vAfter = varianceAfter(d);
      const after = contributionAfter(d);
      const figures: RiskFigures = {
        volBefore: vol(V),
        volAfter: vol(vAfter),
        volLimit: risk.volLimit,
        volTarget: risk.volTarget,
        contributionBefore: shareBefore,
        contributionAfter: after / Math.max(vAfter, risk.budgetVariance),
        contributionLimit: share === undefined ? Infinity : share + risk.tolerance,
      };
      const failed: Array<{ reason: Reason; detail: string }> = [];
      if (!volPasses(d)) {
        failed.push({
          reason: 'VOL_LIMIT',
          detail: `book ex-ante vol would rise from ${pct(figures.volBefore)} to ${pct(figures.volAfter)} above the limit ${pct(figures.volLimit)}`,
        });
      }
      if (!budgetPasses(d)) {
        failed.push({
          reason: 'RISK_BUDGET',
          detail: `strategy "${strategy}" risk contribution would rise from ${pct(figures.contributionBefore)} to ${pct(figures.contributionAfter)} above its budget ${pct(figures.contributionLimit)}`,
        });
      }
      return { failed, figures };
    },
    largest(q) {
      let quantity = q;
      let binding: Reason | undefined;
      // Each pass set is an interval (or two) in q: alternate until both hold at the same quantity.
      for (let round = 0; round < 8; round++) {
        const v = largestFor(volConditions, volPasses, quantity);
        if (v < quantity) binding = 'VOL_LIMIT';
        const b = largestFor(budgetConditions, budgetPasses, v);
        if (b < v) binding = 'RISK_BUDGET';
        if (b === quantity) return { quantity, binding };
        quantity = b;
      }
      const d = deltaOf(quantity);
      return volPasses(d) && budgetPasses(d) ? { quantity, binding } : { quantity: 0, binding: binding ?? 'VOL_LIMIT' };
    },
  };
}

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
