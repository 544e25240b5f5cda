/**
 * Manual rebalance: an operator asks for a fresh budget now. It computes one, turns it into a
 * recommendation and applies the loop's approval rule (never auto-approved) before committing. Its
 * workflow id is derived from the portfolio (`manual-rebalance-<id>`), so two cannot run at once for
 * one portfolio. It carries only the approval book's state.
 *
 * From the Temporal CLI:
 *   temporal workflow start --type manualRebalance --task-queue ballast-risk \
 *     --workflow-id manual-rebalance-demo --input '{"portfolioId":"demo","requestedBy":"alice","reason":"month end"}'
 */
import * as wf from '@temporalio/workflow';
import { mostLikelyRegime } from '../risk/regime/tracker';
import { ApprovalBook, initialApprovalState, setApprovalHandlers } from './approvalBook';
import { describeManualRebalance } from './details';
import { reads, writes } from './retryPolicies';
import type { ManualRebalanceInput, ManualRebalanceResult } from './types';
import { MANUAL_REBALANCE_VERSIONING } from './versioning';

export async function manualRebalance(input: ManualRebalanceInput): Promise<ManualRebalanceResult> {
  if (!input?.portfolioId || !input.requestedBy || !input.reason) {
    throw wf.ApplicationFailure.nonRetryable('portfolioId, requestedBy and reason are required', 'BadInput');
  }
  const { portfolioId } = input;
  const book = new ApprovalBook(initialApprovalState(), portfolioId);
  setApprovalHandlers(book);

  const settings = await reads.validateConfig(input.config);
  const marketData = input.marketData ?? (await reads.portfolioMarketData(portfolioId));
  await writes.recordOperatorAction({
    idempotencyKey: `${wf.workflowInfo().workflowId}:${wf.workflowInfo().runId}:requested`,
    portfolioId,
    action: 'manual-rebalance',
    operator: input.requestedBy,
    reason: input.reason,
    details: { workflowId: wf.workflowInfo().workflowId },
  });

  const ref = await reads.observeMarket(marketData);
  const committed = await reads.latestCommitted(portfolioId);
  book.state.committedVersion = committed?.version ?? null;
  book.state.committedBudget = committed?.budget ?? null;
  const regime = mostLikelyRegime(await reads.assessRegime({ ref, config: input.config }));
  const budget = await reads.computeBudget({ portfolioId, ref, regime, config: input.config, previous: book.state.committedBudget });
  const assessment = await reads.evaluateTriggers({
    portfolioId,
    config: input.config,
    current: book.state.committedBudget,
    proposed: budget,
  });
  const rec = await book.propose(
    {
      id: `${portfolioId}-manual-${wf.workflowInfo().runId.slice(0, 8)}`, // a run id is never reused
      budget,
      triggers: [...assessment.triggers, { kind: 'manual', fired: true, value: input.requestedBy, threshold: null, detail: input.reason }],
      addsRisk: assessment.addsRisk,
      reason: `manual rebalance by ${input.requestedBy}: ${input.reason}`,
      summary: assessment.summary,
      detail: assessment.detail,
      requestedBy: input.requestedBy,
    },
    { approvalTimeoutMs: input.approvalTimeoutMs ?? settings.approvalTimeoutMs, autoApprove: false },
  );

  const details = () => wf.setCurrentDetails(describeManualRebalance(portfolioId, book.state, book.outcomeOf(rec.id)));
  book.onChange = details;
  details();
  while (book.pending) {
    const remaining = (book.pending.expiresAtMs ?? Date.now()) - Date.now();
    await wf.condition(() => book.hasQueuedDecisions, Math.max(1, remaining));
    await book.expireIfDue();
    await book.applyQueuedDecisions();
    details();
  }
  // Answer every decision still queued or arriving (each Update handler waits for its own result).
  while (!wf.allHandlersFinished() || book.hasQueuedDecisions) {
    await wf.condition(() => book.hasQueuedDecisions || wf.allHandlersFinished());
    await book.applyQueuedDecisions();
    details();
  }
  const outcome = book.outcomeOf(rec.id);
  return {
    outcome: outcome === 'COMMITTED' || outcome === 'EXPIRED' || outcome === 'SUPERSEDED' ? outcome : 'REJECTED',
    recommendationId: rec.id,
    version: outcome === 'COMMITTED' ? book.state.committedVersion : null,
  };
}
wf.setWorkflowOptions(MANUAL_REBALANCE_VERSIONING, manualRebalance); // PINNED: completes on the build that started it
