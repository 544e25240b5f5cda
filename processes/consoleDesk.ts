/**
 * The console's desk (console/desk.ts) over Temporal: the same Updates and workflow starts as the CLI
 * (`ballast approve`, `ballast rebalance`) and the Temporal UI, with the signed-in person's name as
 * operator, approver or requester. A validator's refusal becomes a DeskRefusal (409) carrying the
 * workflow's own sentence.
 */
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { Recommendation } from '../risk/approval';
import { type Desk, DeskRefusal, DeskUnsupported, type LoopView, type RebalanceProgress } from '../console/desk';
import {
  approveUpdate,
  overrideLimitUpdate,
  pauseUpdate,
  pendingRecommendationQuery,
  rejectUpdate,
  resumeUpdate,
  setScopedTradingStateUpdate,
  setTradingStateUpdate,
  statusQuery,
} from '../workflows/messages';
import { type LoopStatus, type ManualRebalanceResult, TASK_QUEUE, loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';
import { temporalRebalanceStarter } from './gateControls';

/** The Update the approvals work adds for revoking an override; until the loop has it, revoking answers 501. */
export const REVOKE_OVERRIDE_UPDATE = 'revokeOverride';

export function temporalDesk(client: Client, taskQueue = TASK_QUEUE): Desk {
  const loop = (portfolioId: string) => client.workflow.getHandle(loopWorkflowId(portfolioId));
  const manual = (portfolioId: string) => client.workflow.getHandle(manualRebalanceWorkflowId(portfolioId));
  const starter = temporalRebalanceStarter(client, taskQueue);

  /** Runs an Update; the workflow's refusal becomes a DeskRefusal with its sentence. */
  async function update<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new DeskRefusal(`refused by the workflow: ${err.cause?.message ?? err.message}`);
      if (err instanceof WorkflowNotFoundError) throw new DeskRefusal(`no running workflow to take the change: ${err.message}`);
      throw err;
    }
  }

  /** The workflow whose pending recommendation this is: the manual rebalance when it holds it, else the loop. */
  async function holderOf(portfolioId: string, recommendationId: string) {
    const pendingInManual = await manual(portfolioId)
      .query<Recommendation | null>(pendingRecommendationQuery)
      .catch(() => null);
    return pendingInManual?.id === recommendationId ? manual(portfolioId) : loop(portfolioId);
  }

  return {
    async decide(kind, portfolioId, recommendationId, by, reason) {
      const handle = await holderOf(portfolioId, recommendationId);
      const decision = { recommendationId, approver: by, reason };
      const result = await update(() => handle.executeUpdate(kind === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] }));
      return { ...result, workflowId: handle.workflowId };
    },

    async startRebalance(portfolioId, requestedBy, reason) {
      try {
        return await starter.start(portfolioId, requestedBy, reason);
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError || /already running/.test((err as Error).message))
          throw new DeskRefusal((err as Error).message);
        throw err;
      }
    },

    async rebalanceProgress(portfolioId): Promise<RebalanceProgress> {
      const handle = manual(portfolioId);
      const description = await handle.describe().catch((err) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (!description) return { phase: 'none' };
      if (description.status.name === 'RUNNING') {
        const pending = await handle.query<Recommendation | null>(pendingRecommendationQuery).catch(() => null);
        return { phase: 'running', workflowId: handle.workflowId, pendingRecommendationId: pending?.id ?? null };
      }
      try {
        const result = (await handle.result()) as ManualRebalanceResult;
        return {
          phase: 'completed',
          workflowId: handle.workflowId,
          outcome: result.outcome,
          recommendationId: result.recommendationId,
          version: result.version,
        };
      } catch (err) {
        const message = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
        return { phase: 'failed', workflowId: handle.workflowId, error: message };
      }
    },

    createOverride: (portfolioId, request) => update(() => loop(portfolioId).executeUpdate(overrideLimitUpdate, { args: [request] })),

    async revokeOverride(portfolioId, overrideId, by, reason) {
      try {
        await loop(portfolioId).executeUpdate(REVOKE_OVERRIDE_UPDATE, { args: [{ overrideId, operator: by, reason }] });
      } catch (err) {
        const message = err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
        if (/not found|unknown update|no (registered )?handler/i.test(message))
          throw new DeskUnsupported(`this portfolio loop has no ${REVOKE_OVERRIDE_UPDATE} Update yet; let the override expire`);
        if (err instanceof WorkflowUpdateFailedError) throw new DeskRefusal(`refused by the workflow: ${message}`);
        throw err;
      }
    },

    async setTradingState(portfolioId, change) {
      const request = { state: change.state, reason: change.reason, operator: change.operator };
      if (!change.scope || change.scope.kind === 'portfolio')
        return update(() => loop(portfolioId).executeUpdate(setTradingStateUpdate, { args: [request] }));
      try {
        return await loop(portfolioId).executeUpdate(setScopedTradingStateUpdate, { args: [{ ...request, scope: change.scope }] });
      } catch (err) {
        // A loop built before scopes has no such Update: say so rather than widen the change to the portfolio.
        const message = err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
        if (/not found|unknown update|no (registered )?handler/i.test(message) && !(err instanceof WorkflowNotFoundError))
          throw new DeskUnsupported(`this portfolio loop has no ${setScopedTradingStateUpdate.name} Update yet: set the portfolio's state`);
        return update(() => Promise.reject(err));
      }
    },

    setPaused: (portfolioId, paused, by, reason) =>
      update(() => loop(portfolioId).executeUpdate(paused ? pauseUpdate : resumeUpdate, { args: [{ operator: by, reason }] })),

    async loop(portfolioId): Promise<LoopView | undefined> {
      const handle = loop(portfolioId);
      const status = await handle.query<LoopStatus>(statusQuery).catch((err) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (!status) return undefined;
      const reading = status.regimeReading;
      return {
        workflowId: handle.workflowId,
        paused: status.paused,
        cycle: status.cycle,
        regime: status.regime,
        regimeProbabilities: reading ? Object.fromEntries(reading.regimes.map((r, i) => [r, reading.probabilities[i]])) : null,
        lastMarketAsOf: status.lastMarketAsOf,
        pendingRecommendationId: status.pendingRecommendation?.id ?? null,
        lastError: status.lastError,
      };
    },
  };
}
