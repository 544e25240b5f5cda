/**
 * Manual rebalance: an operator asks for a fresh budget now. It computes one, turns it into a
 * recommendation and applies the same approval rule as the loop before committing. Its workflow id is
 * derived from the portfolio (`manual-rebalance-<id>`), so two cannot run at once for one portfolio.
 *
 * From the Temporal CLI:
 *   temporal workflow start --type manualRebalance --task-queue ballast-risk \
 *     --workflow-id manual-rebalance-demo --input '{"portfolioId":"demo","requestedBy":"alice","reason":"month end"}'
 */
import * as wf from '@temporalio/workflow';
import { initialLoopState } from './portfolioLoop';
import { type QueuedDecision, acts, decide, drainDecisions, expireIfDue, mostLikelyRegime, registerApprovalHandlers } from './shared';
import type { ManualRebalanceInput, ManualRebalanceResult } from './types';

export async function manualRebalance(input: ManualRebalanceInput): Promise<ManualRebalanceResult> {
  if (!input?.portfolioId || !input.requestedBy || !input.reason) {
    throw wf.ApplicationFailure.nonRetryable('portfolioId, requestedBy and reason are required', 'BadInput');
  }
  const { portfolioId } = input;
  const state = initialLoopState();
  const queue: QueuedDecision[] = [];
  registerApprovalHandlers(state, queue);

  const settings = await acts.validateConfig(input.config);
  const marketData = input.marketData ?? (await acts.portfolioMarketData(portfolioId));
  await acts.recordOperatorAction({
    idempotencyKey: `${wf.workflowInfo().workflowId}:${wf.workflowInfo().runId}:requested`,
    portfolioId,
    action: 'manual-rebalance',
    operator: input.requestedBy,
    reason: input.reason,
    details: { workflowId: wf.workflowInfo().workflowId },
  });

  state.cycle = 1;
  const ref = await acts.observeMarket(marketData);
  const committed = await acts.latestCommitted(portfolioId);
  state.committedVersion = committed?.version ?? null;
  state.committedBudget = committed?.budget ?? null;
  const reading = await acts.assessRegime({ ref, config: input.config });
  const regime = mostLikelyRegime(reading);
  const budget = await acts.computeBudget({ portfolioId, ref, regime, config: input.config, previous: state.committedBudget });
  const assessment = await acts.evaluateTriggers({
    portfolioId,
    config: input.config,
    current: state.committedBudget,
    proposed: budget,
  });
  const rec = await decide(
    state,
    portfolioId,
    {
      id: `${portfolioId}-manual-${wf.workflowInfo().runId.slice(0, 8)}`, // a run id is never reused
      budget,
      triggers: [...assessment.triggers, { kind: 'manual', fired: true, value: input.requestedBy, threshold: null, detail: input.reason }],
      addsRisk: assessment.addsRisk,
      reason: `manual rebalance by ${input.requestedBy}: ${input.reason}`,
      summary: assessment.summary,
      detail: assessment.detail,
    },
    { approvalTimeoutMs: input.approvalTimeoutMs ?? settings.approvalTimeoutMs, autoApprove: false },
  );

  while (state.pending) {
    const remaining = (state.pending.expiresAtMs ?? Date.now()) - Date.now();
    await wf.condition(() => queue.length > 0, Math.max(1, remaining));
    await expireIfDue(state, portfolioId);
    await drainDecisions(state, queue, portfolioId);
  }
  // Answer every decision still queued or arriving (each Update handler waits for its own result).
  while (!wf.allHandlersFinished() || queue.length > 0) {
    await wf.condition(() => queue.length > 0 || wf.allHandlersFinished());
    await drainDecisions(state, queue, portfolioId);
  }
  const outcome = state.decided.find((d) => d.id === rec.id)?.status;
  return {
    outcome:
      outcome === 'COMMITTED' ? 'COMMITTED' : outcome === 'EXPIRED' ? 'EXPIRED' : outcome === 'SUPERSEDED' ? 'SUPERSEDED' : 'REJECTED',
    recommendationId: rec.id,
    version: outcome === 'COMMITTED' ? state.committedVersion : null,
  };
}
