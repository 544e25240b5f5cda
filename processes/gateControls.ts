/**
 * The gate's control ports (grpc/ports.ts) over Temporal: TriggerRebalance starts the manual rebalance
 * workflow, OverrideLimit goes through the portfolio loop's `overrideLimit` Update. Both take an
 * optional request id that makes a retried call return the first call's result (see each below).
 */
import {
  ApplicationFailure,
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ControlRefused, type GateControls, type LimitOverrider, RebalanceAlreadyRunning, type RebalanceStarter } from '../grpc/ports';
import { REFUSAL_KINDS, type RefusalKind } from '../risk/kinds';
import type { manualRebalance } from '../workflows/manualRebalance';
import { overrideLimitUpdate } from '../workflows/messages';
import { TASK_QUEUE, loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';

/** TriggerRebalance and OverrideLimit over the Temporal cluster `client` talks to. */
export function temporalControls(client: Client): GateControls {
  return { rebalanceStarter: temporalRebalanceStarter(client), limitOverrider: temporalLimitOverrider(client) };
}

/**
 * Starts the manual rebalance workflow; its id policy refuses a second one for the same portfolio.
 * A request id is kept in the workflow's memo: a retry finds the run it started (running, or finished
 * since: the latest run of the id) and answers its workflow id instead of ALREADY_EXISTS or a second
 * rebalance. A different request id while one runs is still refused.
 */
export function temporalRebalanceStarter(client: Client, taskQueue = TASK_QUEUE): RebalanceStarter {
  /** Whether the latest run of the workflow id was started by this request id. */
  const startedBy = async (workflowId: string, requestId: string): Promise<boolean> => {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      return (await description.memo)?.[REQUEST_ID_MEMO] === requestId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
  return {
    async start(portfolioId, requestedBy, reason, requestId) {
      const workflowId = manualRebalanceWorkflowId(portfolioId);
      if (requestId !== undefined && (await startedBy(workflowId, requestId))) return { workflowId };
      try {
        await client.workflow.start<typeof manualRebalance>('manualRebalance', {
          taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'FAIL',
          args: [{ portfolioId, requestedBy, reason }],
          memo: requestId !== undefined ? { [REQUEST_ID_MEMO]: requestId } : undefined,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // Two retries raced: the one that lost the start finds the winner's run.
          if (requestId !== undefined && (await startedBy(workflowId, requestId))) return { workflowId };
          throw new RebalanceAlreadyRunning(`a manual rebalance is already running for portfolio ${portfolioId} (workflow ${workflowId})`);
        }
        throw err;
      }
      return { workflowId };
    },
  };
}

/** The memo key of the request id that started a manual rebalance. */
const REQUEST_ID_MEMO = 'requestId';

/**
 * Overrides go through the portfolio loop's `overrideLimit` Update: the same validation, audit trail
 * and idempotency as an operator acting in the Temporal UI. A request id becomes the Update id, which
 * Temporal deduplicates within the loop's run: a retry gets the first call's result (its override id,
 * or its refusal) and the handler does not run again. The loop continues as new every few cycles; a
 * retry that lands in the next run is not deduplicated (docs/gate.md says so).
 */
export function temporalLimitOverrider(client: Client): LimitOverrider {
  return {
    async override(portfolioId, command, requestId) {
      try {
        return await client.workflow
          .getHandle(loopWorkflowId(portfolioId))
          .executeUpdate(overrideLimitUpdate, { args: [command], updateId: requestId === undefined ? undefined : `override:${requestId}` });
      } catch (err) {
        throw refusalOf(err) ?? err;
      }
    },
  };
}

/** The loop's typed refusal (an ApplicationFailure of a REFUSAL_KINDS type) behind a failed Update, if that is what it was. */
function refusalOf(err: unknown): ControlRefused | undefined {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const kind = err.cause.type;
  return REFUSAL_KINDS.includes(kind as RefusalKind) ? new ControlRefused(kind as RefusalKind, err.cause.message) : undefined;
}
