/**
 * Policy changes on a running loop (`ballast portfolio update`, the `changePolicy` Update). A change
 * that adds no risk is in force at once. One that adds risk (risk/portfolioSpec.ts says which keys)
 * is not: the budget it produces is proposed through the approval book like any risk-adding budget,
 * and the policy comes into force only when that recommendation is committed; rejected, expired or
 * superseded, the policy version ends with the same status. The loop reaches the approval rule
 * through one function, `proposePendingPolicy`.
 *
 * Replay: nothing here runs unless a `changePolicy` Update arrives, so histories without one replay
 * unchanged.
 */
import { setHandler } from '@temporalio/workflow';
import type { ApprovalBook } from './approvalBook';
import type { PolicyRef } from './contract';
import { type PolicyChange, type PolicyChangeResult, changePolicyUpdate } from './messages';
import { reads, writes } from './retryPolicies';
import type { LoopState, PortfolioLoopInput } from './types';

/** The raw policy document the loop runs now. */
export function activeConfig(input: PortfolioLoopInput, state: LoopState): unknown {
  return state.policy ? state.policy.document : input.config;
}

/** The policy in force by reference: its stored version, or the document of a loop started without one. */
export function policyRef(input: PortfolioLoopInput, state: LoopState): PolicyRef {
  const version = state.policy?.version ?? input.policyVersion;
  return version !== undefined ? { version } : { document: activeConfig(input, state) };
}

function activeVersion(input: PortfolioLoopInput, state: LoopState): number {
  return state.policy?.version ?? input.policyVersion ?? 0;
}

/** Registers the Update; `wake` starts the next cycle at once (it proposes a risk-adding policy's budget). */
export function setPolicyHandlers(input: PortfolioLoopInput, state: LoopState, wake: () => void): void {
  setHandler(changePolicyUpdate, (change) => changePolicy(input, state, change, wake), {
    validator: (change) => validatePolicyChange(input, state, change),
    description:
      'Change the portfolio policy (sent by `ballast portfolio update`). A change that adds risk waits for approval like a budget. ' +
      'Payload: {"version": 2, "document": {<risk_budgeting mapping>}, "requestedBy": "<who>", "reason": "<why>"}.',
  });
}

function validatePolicyChange(input: PortfolioLoopInput, state: LoopState, change: PolicyChange): void {
  if (!change || !Number.isInteger(change.version) || change.version < 1) throw new Error('version must be a positive integer');
  if (typeof change.requestedBy !== 'string' || change.requestedBy.trim() === '') throw new Error('requestedBy is required');
  if (typeof change.reason !== 'string' || change.reason.trim() === '') throw new Error('reason is required');
  if (typeof change.document !== 'object' || change.document === null) throw new Error('document must be a risk_budgeting mapping');
  const current = activeVersion(input, state);
  if (change.version <= current) throw new Error(`policy version ${change.version} is not newer than the one in force (${current})`);
  const pending = state.pendingPolicy;
  if (pending) throw new Error(`policy version ${pending.version} is waiting for approval; approve or reject it first`);
}

async function changePolicy(
  input: PortfolioLoopInput,
  state: LoopState,
  change: PolicyChange,
  wake: () => void,
): Promise<PolicyChangeResult> {
  const { portfolioId } = input;
  const { riskReasons } = await reads.assessPolicyChange({ current: activeConfig(input, state), proposed: change.document });
  // Re-checked after the await: another change may have landed meanwhile.
  validatePolicyChange(input, state, change);
  if (riskReasons.length === 0) {
    state.policy = { version: change.version, document: change.document };
    await writes.recordPolicyStatus({ portfolioId, version: change.version, status: 'ACTIVE', riskReasons });
    return { version: change.version, status: 'ACTIVE', riskReasons };
  }
  state.pendingPolicy = { ...change, riskReasons, recommendationId: null };
  await writes.recordPolicyStatus({ portfolioId, version: change.version, status: 'PENDING_APPROVAL', riskReasons });
  wake();
  return { version: change.version, status: 'PENDING_APPROVAL', riskReasons };
}

/**
 * Proposes the budget a pending risk-adding policy produces, at the current regime, through the
 * approval book (always waiting for a human). Once per pending policy; needs a declared regime.
 */
export async function proposePendingPolicy(
  input: PortfolioLoopInput,
  state: LoopState,
  book: ApprovalBook,
  approvalTimeoutMs: number,
): Promise<void> {
  const pending = state.pendingPolicy;
  if (!pending || pending.recommendationId !== null || state.regime === null) return;
  const { portfolioId } = input;
  const ref = await reads.observeMarket(input.marketData);
  const budget = await reads.computeBudget({
    portfolioId,
    ref,
    regime: state.regime,
    config: pending.document,
    previous: state.committedBudget,
  });
  const assessment = await reads.evaluateTriggers({
    portfolioId,
    config: pending.document,
    current: state.committedBudget,
    proposed: budget,
    nowMs: Date.now(),
  });
  const id = `${portfolioId}-policy-v${pending.version}`;
  state.pendingPolicy = { ...pending, recommendationId: id };
  const { triggers, summary, detail } = assessment;
  const reason = `policy v${pending.version} by ${pending.requestedBy} (${pending.reason}): ${pending.riskReasons.join('; ')}`;
  await book.propose(
    { id, budget, triggers, addsRisk: true, summary, detail, reason, requestedBy: pending.requestedBy },
    { approvalTimeoutMs, autoApprove: false },
  );
  await writes.recordPolicyStatus({ portfolioId, version: pending.version, status: 'PENDING_APPROVAL', recommendationId: id });
}

/** Once the pending policy's recommendation is settled: committed brings the policy into force; otherwise it ends so. */
export async function settlePendingPolicy(input: PortfolioLoopInput, state: LoopState, book: ApprovalBook): Promise<void> {
  const pending = state.pendingPolicy;
  if (!pending?.recommendationId) return;
  const outcome = book.outcomeOf(pending.recommendationId);
  if (outcome === undefined || outcome === 'PENDING' || outcome === 'APPROVED') return;
  state.pendingPolicy = null;
  if (outcome === 'COMMITTED') state.policy = { version: pending.version, document: pending.document };
  const status = outcome === 'COMMITTED' ? 'ACTIVE' : outcome;
  await writes.recordPolicyStatus({ portfolioId: input.portfolioId, version: pending.version, status });
}
