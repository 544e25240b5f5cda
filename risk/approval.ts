/**
 * The records of the approval rule: a recommendation (a proposed budget with why and what it changes)
 * and a human's decision on it. Plain JSON: they travel in workflow history and are stored as they are.
 */
import type { ProposalSummary, TriggerReading } from './assessment';
import { type BudgetVersion, type RiskBudget, addsRisk } from './budget';
import type { RecommendationDetail } from './recommendation';

export interface Recommendation {
  readonly id: string;
  readonly portfolioId: string;
  readonly createdAtMs: number;
  /** When a risk-increasing recommendation stops waiting for a human; null when none is needed. */
  readonly expiresAtMs: number | null;
  readonly reason: string;
  readonly addsRisk: boolean;
  readonly triggers: readonly TriggerReading[];
  readonly budget: RiskBudget;
  /** The committed version the proposal was judged against (null: none yet). */
  readonly baseVersion: number | null;
  readonly summary: ProposalSummary;
  /** The engine's recommendation: current and target allocations, per-asset deltas, turnover, cost, priority. */
  readonly detail?: RecommendationDetail | null;
}

/** A human's approve or reject of one recommendation. */
export interface Decision {
  readonly recommendationId: string;
  readonly approver: string;
  readonly reason: string;
}

/**
 * Why a commit must be refused: another commit (a manual rebalance) moved the budget since this
 * recommendation was judged, and it would now add risk that nobody approved. Null when it may commit.
 */
export function commitRefusal(latest: BudgetVersion | undefined, rec: Recommendation): string | null {
  if (!latest || latest.version === rec.baseVersion || !addsRisk(latest.budget, rec.budget)) return null;
  return `the budget moved to version ${latest.version} since this recommendation was based on ${rec.baseVersion ?? 'none'}, and it would add risk to it`;
}
