/**
 * The gate's control ports (grpc/ports.ts) over Temporal: TriggerRebalance starts the manual rebalance
 * workflow, OverrideLimit goes through the portfolio loop's `overrideLimit` Update.
 */
import { ApplicationFailure, type Client, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ControlRefused, type GateControls, type LimitOverrider, RebalanceAlreadyRunning, type RebalanceStarter } from '../grpc/ports';
import { REFUSAL_KINDS, type RefusalKind } from '../risk/kinds';
import type { manualRebalance } from '../workflows/manualRebalance';
import { overrideLimitUpdate } from '../workflows/messages';
import { TASK_QUEUE, loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';

/** TriggerRebalance and OverrideLimit over the Temporal cluster `client` talks to. */
export function temporalControls(client: Client): GateControls {
  return { rebalanceStarter: temporalRebalanceStarter(client), limitOverrider: temporalLimitOverrider(client) };
}

/** Starts the manual rebalance workflow; its id policy refuses a second one for the same portfolio. */
export function temporalRebalanceStarter(client: Client, taskQueue = TASK_QUEUE): RebalanceStarter {
  return {
    async start(portfolioId, requestedBy, reason) {
      const workflowId = manualRebalanceWorkflowId(portfolioId);
      try {
        await client.workflow.start<typeof manualRebalance>('manualRebalance', {
          taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'FAIL',
          args: [{ portfolioId, requestedBy, reason }],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new RebalanceAlreadyRunning(`a manual rebalance is already running for portfolio ${portfolioId} (workflow ${workflowId})`);
        }
        throw err;
      }
      return { workflowId };
    },
  };
}

/**
 * Overrides go through the portfolio loop's `overrideLimit` Update: the same validation, audit trail
 * and idempotency as an operator acting in the Temporal UI.
 */
export function temporalLimitOverrider(client: Client): LimitOverrider {
  return {
    async override(portfolioId, command) {
      try {
        return await client.workflow.getHandle(loopWorkflowId(portfolioId)).executeUpdate(overrideLimitUpdate, { args: [command] });
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
