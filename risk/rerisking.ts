/**
 * The re-risking policy: how fast risk may come back after a crisis, so a human is asked at a sane
 * rate and never to approve one giant step. Two rules, both from config (`approval.max_gross_step_up`,
 * `approval.min_proposal_spacing`):
 *
 * - **steps**: one approved step may raise the gross limit by at most `maxGrossStepUp` (0.5 = +50 %)
 *   over the committed budget. A larger proposal is scaled down to the step: the same allocation at a
 *   lower leverage (every notional limit, the leverage and the forecast vol scale by one factor), so
 *   what is approved is a consistent budget, and the next step is proposed later;
 * - **spacing**: a risk-increasing proposal (an ask) is made at most once per `minSpacingMs`; between
 *   asks the pending one stays, and a newer proposal replaces it (superseding it) only once the spacing
 *   has passed. Risk-reducing changes are never held back.
 */
import { type RiskBudget, addsRisk } from './budget';
import { type AnnualizedVol, type Currency, type Leverage, fraction } from './units';

export interface ReriskingPolicy {
  /** Largest rise of the gross limit per approved step, as a fraction of the committed one; null = no cap. */
  readonly maxGrossStepUp: number | null;
  /** Least time between two asks (risk-increasing proposals), in milliseconds; 0 = no spacing. */
  readonly minSpacingMs: number;
}

export const DEFAULT_RERISKING_POLICY: ReriskingPolicy = { maxGrossStepUp: 0.5, minSpacingMs: 15 * 60_000 };

/** The policy of old: every proposal asked at once, whatever its size (the "before" of the measurement). */
export const NO_RERISKING_POLICY: ReriskingPolicy = { maxGrossStepUp: null, minSpacingMs: 0 };

export interface Step {
  readonly budget: RiskBudget;
  /** The factor the proposal was scaled by (1: it fit in one step). */
  readonly scale: number;
}

/** `proposed`, scaled down so its gross limit rises at most `maxGrossStepUp` over `current`'s. */
export function stepTowards(current: RiskBudget | null, proposed: RiskBudget, maxGrossStepUp: number | null): Step {
  if (current === null || maxGrossStepUp === null) return { budget: proposed, scale: 1 };
  const ceiling = current.limits.maxGrossNotional * (1 + maxGrossStepUp);
  if (proposed.limits.maxGrossNotional <= ceiling || proposed.limits.maxGrossNotional <= 0) return { budget: proposed, scale: 1 };
  const k = ceiling / proposed.limits.maxGrossNotional;
  const money = (v: number) => (v * k) as Currency;
  const leverage = (proposed.limits.grossLeverage * k) as Leverage;
  const budget: RiskBudget = {
    ...proposed,
    forecastVol: (proposed.forecastVol * k) as AnnualizedVol,
    limits: {
      ...proposed.limits,
      grossLeverage: leverage,
      maxGrossNotional: money(proposed.limits.maxGrossNotional),
      maxNetNotional: money(proposed.limits.maxNetNotional),
      maxOrderNotional: money(proposed.limits.maxOrderNotional),
      cashWeight: fraction(Math.max(0, 1 - leverage)), // as risk/policy.ts cashWeight (importing it would close a cycle via config)
    },
    strategies: proposed.strategies.map((s) => ({
      ...s,
      capital: money(s.capital),
      maxGrossNotional: money(s.maxGrossNotional),
      maxNetNotional: money(s.maxNetNotional),
    })),
    assets: proposed.assets.map((a) => ({
      ...a,
      targetNotional: money(a.targetNotional),
      maxPositionNotional: money(a.maxPositionNotional),
    })),
    diagnostics: { ...proposed.diagnostics, reriskStepScale: k, engineGrossTarget: proposed.limits.maxGrossNotional },
  };
  return { budget, scale: k };
}

/** True when an ask may be made at `nowMs`, the last one having been made at `lastAskAtMs`. */
export function spacingAllows(policy: ReriskingPolicy, lastAskAtMs: number | null | undefined, nowMs: number): boolean {
  return lastAskAtMs == null || nowMs - lastAskAtMs >= policy.minSpacingMs;
}

/** Two budgets with the same limits (neither adds risk over the other): asking again would ask the same thing. */
export const sameLimits = (a: RiskBudget, b: RiskBudget): boolean => !addsRisk(a, b) && !addsRisk(b, a);

/** Whether the loop asks a human now about a risk-increasing proposal, and with which (stepped) budget. */
export type AskDecision = { readonly ask: false; readonly why: string } | { readonly ask: true; readonly step: Step };

export interface AskInputs {
  readonly policy: ReriskingPolicy;
  readonly committed: RiskBudget | null;
  /** The engine's risk-increasing proposal. */
  readonly proposed: RiskBudget;
  /** The budget of the ask still pending, if any. */
  readonly pending: RiskBudget | null;
  readonly lastAskAtMs: number | null | undefined;
  readonly nowMs: number;
}

/**
 * The policy applied to one risk-increasing proposal: step it, then ask unless the pending ask already
 * asks the same thing or the last ask was made less than the spacing ago. An ask made while one is
 * pending supersedes it.
 */
export function decideAsk({ policy, committed, proposed, pending, lastAskAtMs, nowMs }: AskInputs): AskDecision {
  const step = stepTowards(committed, proposed, policy.maxGrossStepUp);
  if (pending && sameLimits(pending, step.budget)) return { ask: false, why: 'the pending ask already asks this' };
  if (!spacingAllows(policy, lastAskAtMs, nowMs)) return { ask: false, why: 'the last ask was less than the spacing ago' };
  return { ask: true, step };
}
