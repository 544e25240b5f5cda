/** Implementations of the gate's ports (grpc/ports.ts) over Temporal and Postgres. */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type pg from 'pg';
import type { LimitOverrider, RebalanceStarter, RecommendationReader, RecommendationView } from '../grpc/ports';
import { overrideLimitUpdate } from '../workflows/messages';
import { TASK_QUEUE, loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';

/** Starts the manual rebalance workflow; its id policy refuses a second one for the same portfolio. */
export function temporalRebalanceStarter(client: Client, taskQueue = TASK_QUEUE): RebalanceStarter {
  return {
    async start(portfolioId, requestedBy, reason) {
      const workflowId = manualRebalanceWorkflowId(portfolioId);
      try {
        await client.workflow.start('manualRebalance', {
          taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'FAIL',
          args: [{ portfolioId, requestedBy, reason }],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new Error(`a manual rebalance is already running for portfolio ${portfolioId} (workflow ${workflowId})`);
        }
        throw err;
      }
      return { workflowId };
    },
  };
}

export function postgresRecommendationReader(pool: pg.Pool): RecommendationReader {
  return {
    async latest(portfolioId, limit): Promise<RecommendationView[]> {
      const { rows } = await pool.query<{
        id: string;
        status: string;
        reason: string;
        adds_risk: boolean;
        created_at: Date;
        summary: unknown;
        detail: unknown;
        triggers: unknown;
        committed_version: number | null;
      }>(
        `SELECT id, status, reason, adds_risk, created_at, summary, detail, triggers, committed_version FROM recommendations
         WHERE portfolio_id = $1 ORDER BY created_at DESC LIMIT $2`,
        [portfolioId, limit],
      );
      return rows.map((r) => ({
        id: r.id,
        kind: r.status,
        createdAt: r.created_at.toISOString(),
        summary: `${r.status}${r.adds_risk ? ' (adds risk)' : ''}: ${r.reason}`,
        payloadJson: JSON.stringify({ summary: r.summary, detail: r.detail, triggers: r.triggers, committedVersion: r.committed_version }),
      }));
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
      return client.workflow.getHandle(loopWorkflowId(portfolioId)).executeUpdate(overrideLimitUpdate, { args: [command] });
    },
  };
}
