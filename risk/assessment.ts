/**
 * What the loop makes of a freshly computed budget against the committed one: every trigger's reading
 * (the engine's five in risk/triggers.ts, plus "no budget yet" and "the limits moved materially"),
 * whether to propose the new budget or only trade the book back to the committed one, whether the
 * change adds risk (which needs a human), and the engine's recommendation for the proposal.
 */
import { addsRisk, type RiskBudget } from './budget';
import type { RiskConfig } from './config';
import { BOOK_TRIGGER_KINDS, type TriggerKind } from './kinds';
import { type RecommendationDetail, buildRecommendation } from './recommendation';
import { type Positions, type TriggerResult, evaluateTriggers } from './triggers';
import { type AnnualizedVol, type Fraction, annualizedVol, fraction } from './units';

/** One trigger as the loop reports it (plain JSON: it travels in workflow history and the recommendations table). */
export interface TriggerReading {
  readonly kind: TriggerKind;
  readonly fired: boolean;
  readonly value: number | string | null;
  readonly threshold: number | string | null;
  readonly detail?: string;
}

/** Before/after figures of a proposal for humans and the UI. */
export type ProposalSummary = Readonly<Record<string, number | string | null>>;

export interface BudgetAssessment {
  readonly triggers: TriggerReading[];
  /** A budget trigger fired: the freshly computed budget should replace the committed one. */
  readonly proposeBudget: boolean;
  /** Only book triggers fired: the book should be traded back to the committed budget. */
  readonly rebalanceBook: boolean;
  readonly addsRisk: boolean;
  readonly summary: ProposalSummary;
  /** The engine's recommendation for the proposal: allocations, per-asset deltas, turnover, cost, priority. */
  readonly detail: RecommendationDetail | null;
}

export interface AssessmentInputs {
  readonly config: RiskConfig;
  readonly current: RiskBudget | null;
  readonly proposed: RiskBudget;
  /** Signed notional per asset at the proposal's reference prices. */
  readonly positions: Positions;
  /** Time of the last regime-driven commit (for the regime-change cooldown), null if never. */
  readonly lastRegimeCommitAtMs: number | null;
  readonly nowMs: number;
}

export function assessBudget(inputs: AssessmentInputs): BudgetAssessment {
  const { config, current, proposed, positions } = inputs;
  const triggers: TriggerReading[] = [initialBudgetTrigger(current)];
  const engineTriggers: TriggerResult[] = [];
  if (current) {
    engineTriggers.push(
      ...evaluateTriggers({
        settings: config.triggers,
        budget: current,
        positions,
        regime: { detectedRegime: proposed.regime, lastRegimeRebalanceAtMs: inputs.lastRegimeCommitAtMs, nowMs: inputs.nowMs },
        averageCorrelation: correlationNotPricedIn(current, proposed, config.triggers.correlationSpike),
        realizedVol: committedExposureVol(current, proposed),
      }),
    );
    triggers.push(...engineTriggers.map(toReading), limitChangeTrigger(current, proposed, config.triggers.driftThreshold));
  }
  const fired = triggers.filter((t) => t.fired);
  const proposeBudget = fired.some((t) => !BOOK_TRIGGER_KINDS.includes(t.kind));
  const detail = proposeBudget
    ? buildRecommendation({ positions, budget: proposed, committed: current ?? undefined, config, triggers: engineTriggers })
    : null;
  return {
    triggers,
    proposeBudget,
    rebalanceBook: !proposeBudget && fired.length > 0,
    addsRisk: addsRisk(current ?? undefined, proposed),
    summary: proposalSummary(current, proposed, detail),
    detail,
  };
}

export function initialBudgetTrigger(current: RiskBudget | null): TriggerReading {
  return { kind: 'initial-budget', fired: current === null, value: current === null ? 'none' : 'exists', threshold: null };
}

/**
 * Forecast vol of the committed exposure under the latest covariance: the proposed budget's forecast
 * rescaled to the committed leverage. This is what "the committed budget now runs hotter than its
 * target" means; the index's own vol would keep firing after the budget has already been resized.
 */
export function committedExposureVol(current: RiskBudget, proposed: RiskBudget): AnnualizedVol {
  const scale = proposed.limits.grossLeverage > 0 ? current.limits.grossLeverage / proposed.limits.grossLeverage : 0;
  return annualizedVol(proposed.forecastVol * scale);
}

/** Average correlation, or 0 when the committed budget already saw a spike (it is priced in). */
export function correlationNotPricedIn(current: RiskBudget, proposed: RiskBudget, spike: number): number {
  const now = typeof proposed.diagnostics.avgCorrelation === 'number' ? proposed.diagnostics.avgCorrelation : 0;
  const then = typeof current.diagnostics.avgCorrelation === 'number' ? current.diagnostics.avgCorrelation : 0;
  return then > spike ? 0 : now;
}

/** The engine's gross limit moved by more than the drift threshold (relative) since the last commit. */
export function limitChangeTrigger(current: RiskBudget, proposed: RiskBudget, threshold: Fraction): TriggerReading {
  const change = Math.abs(proposed.limits.maxGrossNotional / current.limits.maxGrossNotional - 1);
  return {
    kind: 'limit-change',
    fired: change > threshold,
    value: fraction(change),
    threshold,
    detail: `gross limit ${Math.round(current.limits.maxGrossNotional)} → ${Math.round(proposed.limits.maxGrossNotional)}`,
  };
}

function toReading(t: TriggerResult): TriggerReading {
  return { kind: t.kind, fired: t.fired, value: Number.isFinite(t.value) ? t.value : null, threshold: t.threshold, detail: t.detail };
}

function proposalSummary(current: RiskBudget | null, proposed: RiskBudget, detail: RecommendationDetail | null): ProposalSummary {
  return {
    regimeBefore: current?.regime ?? null,
    regimeAfter: proposed.regime,
    grossLimitBefore: current?.limits.maxGrossNotional ?? null,
    grossLimitAfter: proposed.limits.maxGrossNotional,
    leverageBefore: current?.limits.grossLeverage ?? null,
    leverageAfter: proposed.limits.grossLeverage,
    ...(detail && {
      priority: detail.priority,
      turnover: detail.turnover,
      estimatedCost: detail.estimatedCost,
      // The book's risk would rise (informational: approval follows the budget's limits).
      bookRiskUp: detail.addsRisk ? 'yes' : 'no',
    }),
  };
}
