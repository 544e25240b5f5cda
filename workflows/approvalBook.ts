/**
 * The approval rule, shared by the loop and the manual rebalance: a proposal that reduces risk commits
 * at once; one that adds risk waits for a human (approve/reject by Update or Signal) until it expires.
 *
 * Message handlers only validate and enqueue (`setApprovalHandlers`); the workflow's main loop applies
 * queued decisions in arrival order (`applyQueuedDecisions`), so it stays the single writer of
 * commits. Deterministic: every key written is derived from workflow state, so replays and retries
 * write nothing twice.
 */
import { ApplicationFailure, condition, setHandler, uuid4 } from '@temporalio/workflow';
import { type Decision, type Recommendation, approvalRefusal, decisionShapeError } from '../risk/approval';
import type { ProposalSummary, TriggerReading } from '../risk/assessment';
import type { RiskBudget } from '../risk/budget';
import type { ApprovalDecision, RecommendationStatus, RefusalKind } from '../risk/kinds';
import { type DecisionResult, approveSignal, approveUpdate, pendingRecommendationQuery, rejectSignal, rejectUpdate } from './messages';
import { writes } from './retryPolicies';
import type { ApprovalState } from './types';

export function initialApprovalState(): ApprovalState {
  return { committedVersion: null, committedBudget: null, pending: null, decided: [], lastRejection: null, notices: [] };
}

/** A refusal of a person's message, typed so a caller can tell separation of duties from a bad request. */
export function refusal(kind: RefusalKind, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: kind, message, nonRetryable: true });
}

const MAX_NOTICES_KEPT = 5;

/** Keeps a note a person should see in the workflow's summary (a refused or malformed message), newest last. */
export function notice(state: ApprovalState, text: string): void {
  state.notices = [...(state.notices ?? []), { atMs: Date.now(), text }].slice(-MAX_NOTICES_KEPT);
}

export interface Proposal {
  readonly id: string;
  readonly budget: RiskBudget;
  readonly triggers: readonly TriggerReading[];
  readonly addsRisk: boolean;
  readonly reason: string;
  readonly summary: ProposalSummary;
  readonly detail?: Recommendation['detail'];
  /** The person who asked (manual rebalance), or LOOP_REQUESTER for the loop's own proposals. */
  readonly requestedBy: string;
}

type Verdict = 'APPROVED' | 'REJECTED';

interface QueuedDecision {
  readonly verdict: Verdict;
  readonly decision: Decision;
  readonly via: 'update' | 'signal';
  result: DecisionResult | null;
}

const MAX_DECIDED_KEPT = 50;

export class ApprovalBook {
  private readonly queue: QueuedDecision[] = [];
  /** Runs after every change of the approval state, before anything awaits (the workflow refreshes its summary). */
  onChange: () => void = () => undefined;

  /** `onCommitted` runs after a commit updated the state, before anything else awaits (the loop records regime responses). */
  constructor(
    readonly state: ApprovalState,
    private readonly portfolioId: string,
    private readonly onCommitted: (rec: Recommendation, version: number) => Promise<void> = async () => undefined,
  ) {}

  get pending(): Recommendation | null {
    return this.state.pending;
  }

  get hasQueuedDecisions(): boolean {
    return this.queue.length > 0;
  }

  /** The status a recommendation was settled with, if it was. */
  outcomeOf(id: string): RecommendationStatus | undefined {
    return this.state.decided.find((d) => d.id === id)?.status;
  }

  // ---- message side: validate, enqueue, wait for the main loop's answer ----

  /**
   * Refuses malformed (unknown or missing fields), unknown, already decided or expired decisions with
   * an InvalidDecision failure naming why, and an approval by the change's own requester with a
   * SeparationOfDuties failure. A rejection needs no second person: withdrawing risk is always allowed.
   */
  validate(verdict: Verdict, d: Decision): void {
    const shape = decisionShapeError(d);
    if (shape) throw refusal('InvalidDecision', shape);
    const decided = this.outcomeOf(d.recommendationId);
    if (decided) throw refusal('InvalidDecision', `recommendation ${d.recommendationId} is already ${decided}`);
    const pending = this.state.pending;
    if (!pending) throw refusal('InvalidDecision', `unknown recommendation ${d.recommendationId}: nothing is pending approval`);
    if (pending.id !== d.recommendationId)
      throw refusal('InvalidDecision', `unknown recommendation ${d.recommendationId}: the pending one is ${pending.id}`);
    if (pending.expiresAtMs !== null && Date.now() >= pending.expiresAtMs)
      throw refusal('InvalidDecision', `recommendation ${d.recommendationId} has expired`);
    const fourEyes = verdict === 'APPROVED' ? approvalRefusal(pending, d.approver) : null;
    if (fourEyes) throw refusal('SeparationOfDuties', fourEyes);
  }

  async enqueue(verdict: Verdict, via: QueuedDecision['via'], decision: Decision): Promise<DecisionResult> {
    const queued: QueuedDecision = { verdict, decision, via, result: null };
    this.queue.push(queued);
    await condition(() => queued.result !== null);
    return queued.result as DecisionResult;
  }

  // ---- main-loop side: the single writer ----

  /** Applies the approval rule to a proposal; a pending recommendation it replaces is superseded. */
  async propose(proposal: Proposal, opts: { approvalTimeoutMs: number; autoApprove: boolean }): Promise<Recommendation> {
    const replaced = this.state.pending;
    if (replaced)
      await this.settle(
        replaced,
        'SUPERSEDED',
        `superseded by the newer proposal ${proposal.id} (${proposal.reason || 'no trigger named'})`,
      );
    const now = Date.now();
    const needsApproval = proposal.addsRisk && !opts.autoApprove;
    const rec: Recommendation = {
      id: proposal.id,
      portfolioId: this.portfolioId,
      createdAtMs: now,
      expiresAtMs: needsApproval ? now + opts.approvalTimeoutMs : null,
      reason: proposal.reason,
      addsRisk: proposal.addsRisk,
      triggers: proposal.triggers,
      budget: proposal.budget,
      baseVersion: this.state.committedVersion,
      summary: proposal.summary,
      detail: proposal.detail ?? null,
      requestedBy: proposal.requestedBy,
    };
    if (!needsApproval) {
      await this.commit(rec);
      return rec;
    }
    this.state.pending = rec;
    this.state.lastAskAtMs = now;
    this.onChange();
    await writes.recordRecommendation({ recommendation: rec, status: 'PENDING', committedVersion: null });
    await writes.raiseAlert({
      idempotencyKey: `${rec.id}:approval-required`,
      portfolioId: this.portfolioId,
      severity: 'info',
      kind: 'approval-required',
      message: `recommendation ${rec.id} adds risk (${rec.reason}) and waits for approval until ${new Date(rec.expiresAtMs as number).toISOString()}`,
      details: { recommendationId: rec.id, ...rec.summary },
    });
    return rec;
  }

  /** Applies every queued decision in arrival order. */
  async applyQueuedDecisions(): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.queue.shift() as QueuedDecision;
      next.result = await this.apply(next);
    }
  }

  /** Expires the pending recommendation once its deadline passed (before decisions: a late one must not revive it). */
  async expireIfDue(): Promise<void> {
    const rec = this.state.pending;
    if (!rec || rec.expiresAtMs === null || Date.now() < rec.expiresAtMs) return;
    await this.recordDecision(rec, 'EXPIRED', 'system', 'approval timeout elapsed');
    await this.settle(rec, 'EXPIRED');
    await writes.raiseAlert({
      idempotencyKey: `${rec.id}:expired`,
      portfolioId: this.portfolioId,
      severity: 'warning',
      kind: 'approval-expired',
      message: `recommendation ${rec.id} (${rec.reason}) expired without a decision; the budget was not changed`,
      details: { recommendationId: rec.id },
    });
  }

  /** A human said no to adding risk in this regime: do not ask again until the cooldown passed. */
  recentlyRejected(regime: string, cooldownMs: number): boolean {
    const last = this.state.lastRejection;
    return !!last && last.regime === regime && Date.now() - last.atMs < cooldownMs;
  }

  private async apply(queued: QueuedDecision): Promise<DecisionResult> {
    const { decision } = queued;
    try {
      this.validate(queued.verdict, decision);
    } catch (err) {
      // Only signals reach here invalid (updates were validated on admission, unless state moved on).
      // A Signal cannot answer its sender, so the refusal is made loud: an alert and a note in the summary.
      const fourEyes = err instanceof ApplicationFailure && err.type === 'SeparationOfDuties';
      const who = typeof decision?.approver === 'string' ? decision.approver : 'unknown';
      const message = `ignored ${queued.verdict === 'APPROVED' ? 'approve' : 'reject'} ${queued.via} from ${who}: ${(err as Error).message}`;
      notice(this.state, message);
      this.onChange();
      await writes.raiseAlert({
        idempotencyKey: `${this.portfolioId}:bad-decision:${uuid4()}`,
        portfolioId: this.portfolioId,
        severity: 'warning',
        kind: fourEyes ? 'separation-of-duties' : 'invalid-decision',
        message,
        details: {
          recommendationId: typeof decision?.recommendationId === 'string' ? decision.recommendationId : null,
          received: decision ?? null,
        },
      });
      const known = this.outcomeOf(decision?.recommendationId ?? '');
      return { recommendationId: decision?.recommendationId ?? '', status: known ?? 'REJECTED', committedVersion: null };
    }
    const rec = this.state.pending as Recommendation;
    await this.recordDecision(rec, queued.verdict, decision.approver, decision.reason);
    if (queued.verdict === 'REJECTED') {
      await this.settle(rec, 'REJECTED');
      this.state.lastRejection = { regime: rec.budget.regime, atMs: Date.now() };
      return { recommendationId: rec.id, status: 'REJECTED', committedVersion: null };
    }
    const version = await this.commit(rec);
    if (this.state.pending?.id === rec.id) this.state.pending = null;
    return version === null
      ? { recommendationId: rec.id, status: 'SUPERSEDED', committedVersion: null }
      : { recommendationId: rec.id, status: 'COMMITTED', committedVersion: version };
  }

  /**
   * Commits the recommendation's budget, its COMMITTED status and the rebalancing plan in one
   * transaction (keyed by recommendation id). The store refuses it, returning null, when another commit
   * (a manual rebalance) moved the budget since this proposal was judged and it would now add risk
   * that nobody approved; the recommendation is then superseded and the next cycle proposes afresh.
   */
  private async commit(rec: Recommendation): Promise<number | null> {
    const result = await writes.commitRecommendation({ recommendation: rec });
    if (result.refused) {
      await this.settle(rec, 'SUPERSEDED', `not committed: ${result.refused}`);
      await writes.raiseAlert({
        idempotencyKey: `${rec.id}:refused`,
        portfolioId: rec.portfolioId,
        severity: 'warning',
        kind: 'commit-refused',
        message: `recommendation ${rec.id} was not committed: ${result.refused}`,
        details: { recommendationId: rec.id },
      });
      return null;
    }
    // Update every piece of state before the next await, so queries never see a half-applied commit.
    this.state.committedVersion = result.version;
    this.state.committedBudget = rec.budget;
    this.remember(rec.id, 'COMMITTED');
    this.onChange();
    await this.onCommitted(rec, result.version);
    return result.version;
  }

  /** One decision per recommendation (keyed by it): the first of approve, reject or expiry wins. */
  private async recordDecision(rec: Recommendation, decision: ApprovalDecision, approver: string, reason: string): Promise<void> {
    await writes.recordDecision({
      idempotencyKey: `${rec.id}:decision`,
      recommendationId: rec.id,
      portfolioId: this.portfolioId,
      decision,
      approver,
      reason,
      latencyMs: Date.now() - rec.createdAtMs,
    });
  }

  /** Settles a recommendation without a human decision; `reason` (why, e.g. what superseded it) is recorded and noted. */
  private async settle(rec: Recommendation, status: RecommendationStatus, reason?: string): Promise<void> {
    if (this.state.pending?.id === rec.id) this.state.pending = null;
    this.remember(rec.id, status);
    if (reason) notice(this.state, `${rec.id} ${reason}`);
    this.onChange();
    await writes.recordRecommendation({ recommendation: rec, status, committedVersion: null, ...(reason && { settledReason: reason }) });
  }

  private remember(id: string, status: RecommendationStatus): void {
    this.state.decided.push({ id, status });
    if (this.state.decided.length > MAX_DECIDED_KEPT) this.state.decided.shift();
  }
}

const DECISION_TEMPLATE = '{"recommendationId": "<id from the summary>", "approver": "<your name>", "reason": "<why>"}';
const APPROVE_UPDATE_DESCRIPTION = `PREFERRED. Approve the pending recommendation; validated before it is accepted (a typo, an unknown id, or approving your own risk-increasing change fails here with a reason). Payload: ${DECISION_TEMPLATE}`;
const REJECT_UPDATE_DESCRIPTION = `PREFERRED. Reject the pending recommendation; validated before it is accepted. Payload: ${DECISION_TEMPLATE}`;
const APPROVE_SIGNAL_DESCRIPTION = `Approve by Signal (cannot report an error: prefer the approveRecommendation Update). A refused or malformed one raises an alert and shows in the summary. Payload: ${DECISION_TEMPLATE}`;
const REJECT_SIGNAL_DESCRIPTION = `Reject by Signal (cannot report an error: prefer the rejectRecommendation Update). A malformed one raises an alert and shows in the summary. Payload: ${DECISION_TEMPLATE}`;

/**
 * Approve/reject as Updates (validated synchronously: an invalid one never reaches history) and as
 * Signals (for the Temporal UI; an invalid one is alerted and ignored when applied).
 */
export function setApprovalHandlers(book: ApprovalBook): void {
  setHandler(approveUpdate, (d) => book.enqueue('APPROVED', 'update', d), {
    validator: (d) => book.validate('APPROVED', d),
    description: APPROVE_UPDATE_DESCRIPTION,
  });
  setHandler(rejectUpdate, (d) => book.enqueue('REJECTED', 'update', d), {
    validator: (d) => book.validate('REJECTED', d),
    description: REJECT_UPDATE_DESCRIPTION,
  });
  setHandler(approveSignal, (d) => void book.enqueue('APPROVED', 'signal', d), { description: APPROVE_SIGNAL_DESCRIPTION });
  setHandler(rejectSignal, (d) => void book.enqueue('REJECTED', 'signal', d), { description: REJECT_SIGNAL_DESCRIPTION });
  setHandler(pendingRecommendationQuery, () => book.pending, {
    description:
      'The recommendation waiting for a human (the full record, epoch-ms times), or null. The summary above is the readable form.',
  });
}
