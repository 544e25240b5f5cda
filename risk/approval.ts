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
  /**
   * Who asked for the change: the person for a manual rebalance, LOOP_REQUESTER for the loop's own
   * proposals. Absent only on recommendations recorded before requesters were (read as the loop's).
   */
  readonly requestedBy?: string;
}

/** The requester of every proposal the control loop makes by itself. */
export const LOOP_REQUESTER = 'ballast-loop';

export const requesterOf = (rec: Pick<Recommendation, 'requestedBy'>): string => rec.requestedBy ?? LOOP_REQUESTER;

/** Names are compared as people type them: case and surrounding spaces do not make a second person. */
export const samePerson = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Separation of duties, the one rule every path applies (Update, Signal, console, CLI): a change that
 * adds risk, and every limit override, needs a second person. Returns why `approver` may not approve
 * what `requester` asked for, or null when they may.
 */
export function separationOfDutiesError(what: string, requester: string, approver: string): string | null {
  if (!samePerson(requester, approver)) return null;
  return `${approver} requested ${what} and may not approve it: a second person must (separation of duties)`;
}

/** The four-eyes check for approving a recommendation: only a risk-increasing one needs a second person. */
export function approvalRefusal(rec: Recommendation, approver: string): string | null {
  if (!rec.addsRisk) return null;
  return separationOfDutiesError(`risk-increasing recommendation ${rec.id}`, requesterOf(rec), approver);
}

/** The fields a Decision has; any other (a typo such as `recommendationID`) is refused by name. */
export const DECISION_FIELDS = ['recommendationId', 'approver', 'reason'] as const;

/** Why `value` is not a well-formed Decision (before looking at what is pending), or null. */
export function decisionShapeError(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return 'a decision must be an object {"recommendationId", "approver", "reason"}';
  }
  const unknown = Object.keys(value).filter((k) => !(DECISION_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: a decision has exactly ${DECISION_FIELDS.join(', ')}`;
  }
  const d = value as Partial<Record<(typeof DECISION_FIELDS)[number], unknown>>;
  if (typeof d.recommendationId !== 'string' || d.recommendationId === '') return 'recommendationId is required';
  if (typeof d.approver !== 'string' || d.approver.trim() === '') return 'approver is required';
  if (typeof d.reason !== 'string' || d.reason.trim() === '') return 'reason is required';
  return null;
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
