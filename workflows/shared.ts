/**
 * The approval rule shared by the loop and the manual-rebalance workflow: risk-reducing proposals
 * commit at once; risk-increasing ones wait for a human decision or expire. Deterministic: every key
 * written is derived from workflow state, so replays and retries write nothing twice.
 */
import * as wf from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { RiskBudget } from '../risk/budget';
import { type DecisionResult, approveSignal, approveUpdate, pendingRecommendationQuery, rejectSignal, rejectUpdate } from './messages';
import type { Decision, LoopState, Recommendation, RecommendationStatus, RegimeReading, TriggerReading } from './types';

type Activities = ReturnType<typeof createActivities>;

/**
 * Every activity is a short read, computation or keyed write. A tight start-to-close timeout is what
 * lets a task lost with a crashed worker be retried on another within seconds; user errors
 * (bad config, bad data) are non-retryable.
 */
const reads = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['ConfigError', 'DataError'],
  },
});

/** Keyed writes are retried until they land: giving up would lose an output, retrying cannot duplicate one. */
const writes = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ConfigError', 'DataError', 'IdempotencyConflict'],
  },
});

const WRITES = new Set([
  'commitRecommendation',
  'recordRecommendation',
  'recordDecision',
  'emitRebalancePlan',
  'raiseAlert',
  'recordRegimeChange',
  'recordMetrics',
  'recordOperatorAction',
  'setTradingState',
  'createOverride',
  'heartbeat',
  'ensurePortfolio',
]);

export const acts = new Proxy(reads, {
  get: (target, name: string) => (WRITES.has(name) ? writes : target)[name as keyof Activities],
}) as Activities;

/**
 * Stable key of the current cycle, unique over the whole life of this loop: the first run id of the
 * continue-as-new chain keeps a loop started again later from reusing an earlier chain's keys.
 */
export function cycleKey(state: LoopState, portfolioId: string): string {
  return `${portfolioId}-${wf.workflowInfo().firstExecutionRunId.slice(0, 8)}-c${state.cycle}`;
}

export interface Proposal {
  readonly id: string;
  readonly budget: RiskBudget;
  readonly triggers: readonly TriggerReading[];
  readonly addsRisk: boolean;
  readonly reason: string;
  readonly summary: Readonly<Record<string, number | string | null>>;
  readonly detail?: Recommendation['detail'];
}

export interface QueuedDecision {
  readonly kind: 'APPROVED' | 'REJECTED';
  readonly decision: Decision;
  readonly via: 'update' | 'signal';
  result: DecisionResult | null;
}

const MAX_DECIDED_KEPT = 50;

/**
 * Approve/reject as Updates (validated synchronously: an invalid one never reaches history) and as
 * Signals (for the Temporal UI). Both only enqueue; the workflow's main loop applies decisions in order.
 */
export function registerApprovalHandlers(state: LoopState, queue: QueuedDecision[]): void {
  const enqueue =
    (kind: 'APPROVED' | 'REJECTED', via: 'update' | 'signal') =>
    async (decision: Decision): Promise<DecisionResult> => {
      const queued: QueuedDecision = { kind, decision, via, result: null };
      queue.push(queued);
      await wf.condition(() => queued.result !== null);
      return queued.result as DecisionResult;
    };
  wf.setHandler(approveUpdate, enqueue('APPROVED', 'update'), { validator: (d) => decisionValidator(state, d) });
  wf.setHandler(rejectUpdate, enqueue('REJECTED', 'update'), { validator: (d) => decisionValidator(state, d) });
  // Signals cannot be refused synchronously: an invalid one is alerted and ignored when applied.
  wf.setHandler(approveSignal, (d) => void enqueue('APPROVED', 'signal')(d));
  wf.setHandler(rejectSignal, (d) => void enqueue('REJECTED', 'signal')(d));
  wf.setHandler(pendingRecommendationQuery, () => state.pending);
}

/** Applies every queued decision in arrival order. */
export async function drainDecisions(state: LoopState, queue: QueuedDecision[], portfolioId: string): Promise<void> {
  while (queue.length > 0) {
    const next = queue.shift() as QueuedDecision;
    next.result = await applyDecision(state, portfolioId, next);
  }
}

/** Synchronous Update validator: rejects unknown, already decided, or incomplete decisions. */
export function decisionValidator(state: LoopState, d: Decision): void {
  if (!d || typeof d.recommendationId !== 'string' || d.recommendationId === '') throw new Error('recommendationId is required');
  if (typeof d.approver !== 'string' || d.approver.trim() === '') throw new Error('approver is required');
  if (typeof d.reason !== 'string' || d.reason.trim() === '') throw new Error('reason is required');
  const decided = state.decided.find((x) => x.id === d.recommendationId);
  if (decided) throw new Error(`recommendation ${d.recommendationId} is already ${decided.status}`);
  if (!state.pending) throw new Error(`unknown recommendation ${d.recommendationId}: nothing is pending approval`);
  if (state.pending.id !== d.recommendationId)
    throw new Error(`unknown recommendation ${d.recommendationId}: the pending one is ${state.pending.id}`);
  if (state.pending.expiresAtMs !== null && Date.now() >= state.pending.expiresAtMs)
    throw new Error(`recommendation ${d.recommendationId} has expired`);
}

/** Applies the approval rule to a proposal. */
export async function decide(
  state: LoopState,
  portfolioId: string,
  proposal: Proposal,
  opts: { approvalTimeoutMs: number; autoApprove: boolean },
): Promise<Recommendation> {
  if (state.pending) await settle(state, state.pending, 'SUPERSEDED');
  const now = Date.now();
  const needsApproval = proposal.addsRisk && !opts.autoApprove;
  const rec: Recommendation = {
    id: proposal.id,
    portfolioId,
    createdAtMs: now,
    expiresAtMs: needsApproval ? now + opts.approvalTimeoutMs : null,
    reason: proposal.reason,
    addsRisk: proposal.addsRisk,
    triggers: proposal.triggers,
    budget: proposal.budget,
    baseVersion: state.committedVersion,
    summary: proposal.summary,
    detail: proposal.detail ?? null,
  };
  if (!needsApproval) {
    await commit(state, rec);
    return rec;
  }
  state.pending = rec;
  await acts.recordRecommendation({ recommendation: rec, status: 'PENDING', committedVersion: null });
  await acts.raiseAlert({
    idempotencyKey: `${rec.id}:approval-required`,
    portfolioId,
    severity: 'info',
    kind: 'approval-required',
    message: `recommendation ${rec.id} adds risk (${rec.reason}) and waits for approval until ${new Date(rec.expiresAtMs as number).toISOString()}`,
    details: { recommendationId: rec.id, ...rec.summary },
  });
  return rec;
}

export async function applyDecision(state: LoopState, portfolioId: string, queued: QueuedDecision): Promise<DecisionResult> {
  const { decision } = queued;
  try {
    decisionValidator(state, decision);
  } catch (err) {
    // Only signals reach here invalid (updates were validated on admission, unless state moved on).
    await acts.raiseAlert({
      idempotencyKey: `${portfolioId}:bad-decision:${wf.uuid4()}`,
      portfolioId,
      severity: 'warning',
      kind: 'invalid-decision',
      message: `ignored ${queued.kind.toLowerCase()} ${queued.via} from ${decision?.approver ?? 'unknown'}: ${(err as Error).message}`,
      details: { recommendationId: decision?.recommendationId ?? null },
    });
    const known = state.decided.find((x) => x.id === decision?.recommendationId);
    return { recommendationId: decision?.recommendationId ?? '', status: known?.status ?? 'REJECTED', committedVersion: null };
  }
  const rec = state.pending as Recommendation;
  await acts.recordDecision({
    idempotencyKey: `${rec.id}:decision`,
    recommendationId: rec.id,
    portfolioId,
    decision: queued.kind,
    approver: decision.approver,
    reason: decision.reason,
    latencyMs: Date.now() - rec.createdAtMs,
  });
  if (queued.kind === 'REJECTED') {
    await settle(state, rec, 'REJECTED');
    state.lastRejection = { regime: rec.budget.regime, atMs: Date.now() };
    return { recommendationId: rec.id, status: 'REJECTED', committedVersion: null };
  }
  const version = await commit(state, rec);
  if (state.pending?.id === rec.id) state.pending = null;
  return version === null
    ? { recommendationId: rec.id, status: 'SUPERSEDED', committedVersion: null }
    : { recommendationId: rec.id, status: 'COMMITTED', committedVersion: version };
}

export async function expireIfDue(state: LoopState, portfolioId: string): Promise<void> {
  const rec = state.pending;
  if (!rec || rec.expiresAtMs === null || Date.now() < rec.expiresAtMs) return;
  await acts.recordDecision({
    idempotencyKey: `${rec.id}:decision`,
    recommendationId: rec.id,
    portfolioId,
    decision: 'EXPIRED',
    approver: 'system',
    reason: 'approval timeout elapsed',
    latencyMs: Date.now() - rec.createdAtMs,
  });
  await settle(state, rec, 'EXPIRED');
  await acts.raiseAlert({
    idempotencyKey: `${rec.id}:expired`,
    portfolioId,
    severity: 'warning',
    kind: 'approval-expired',
    message: `recommendation ${rec.id} (${rec.reason}) expired without a decision; the budget was not changed`,
    details: { recommendationId: rec.id },
  });
}

/** The regime the reading finds most likely (ties go to the calmer one, the first in the list). */
export function mostLikelyRegime(reading: RegimeReading): string {
  return reading.regimes[reading.probabilities.indexOf(Math.max(...reading.probabilities))];
}

/**
 * Commits the recommendation's budget, its COMMITTED status and the rebalancing plan in one
 * transaction (keyed by recommendation id). The store refuses it, returning null, when another commit
 * (a manual rebalance) moved the budget since this proposal was judged and it would now add risk
 * that nobody approved; the recommendation is then superseded and the next cycle proposes afresh.
 */
async function commit(state: LoopState, rec: Recommendation): Promise<number | null> {
  const result = await acts.commitRecommendation({ recommendation: rec });
  if (result.refused) {
    await settle(state, rec, 'SUPERSEDED');
    await acts.raiseAlert({
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
  state.committedVersion = result.version;
  state.committedBudget = rec.budget;
  remember(state, rec.id, 'COMMITTED');
  const change = [...state.regimeChanges].reverse().find((c) => c.committedAtMs === undefined);
  if (change !== undefined && change.to === rec.budget.regime) {
    change.committedAtMs = Date.now();
    change.committedVersion = result.version;
    await acts.recordRegimeChange({
      idempotencyKey: `${rec.portfolioId}:regime:${wf.workflowInfo().firstExecutionRunId.slice(0, 8)}:${change.detectedAtMs}`,
      portfolioId: rec.portfolioId,
      change,
    });
  }
  return result.version;
}

async function settle(state: LoopState, rec: Recommendation, status: RecommendationStatus): Promise<void> {
  if (state.pending?.id === rec.id) state.pending = null;
  remember(state, rec.id, status);
  await acts.recordRecommendation({ recommendation: rec, status, committedVersion: null });
}

function remember(state: LoopState, id: string, status: RecommendationStatus): void {
  state.decided.push({ id, status });
  if (state.decided.length > MAX_DECIDED_KEPT) state.decided.shift();
}

/** A failed cycle is recorded and alerted, and the loop carries on; this itself never throws. */
export async function recordFailure(state: LoopState, portfolioId: string, err: unknown): Promise<void> {
  const cause = err instanceof wf.ActivityFailure && err.cause ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  const userError = cause instanceof wf.ApplicationFailure && cause.nonRetryable;
  const repeat = state.lastError === message;
  state.lastError = message;
  if (repeat) return; // one alert per distinct failure, not one per cycle
  const kind = userError ? 'bad-input' : 'cycle-failed';
  try {
    await acts.raiseAlert({
      idempotencyKey: `${cycleKey(state, portfolioId)}:${kind}:${wf.uuid4()}`,
      portfolioId,
      severity: userError ? 'critical' : 'warning',
      kind,
      message: `cycle ${state.cycle} failed: ${message}`,
      details: { cycle: state.cycle },
    });
  } catch (alertErr) {
    wf.log.error('could not record a cycle failure', { portfolioId, message, alertError: String(alertErr) });
  }
}
