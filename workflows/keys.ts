/** Idempotency keys derived from workflow state: a replay or a retried activity writes nothing twice. */
import { workflowInfo } from '@temporalio/workflow';

/**
 * Stable key of the loop's current cycle, unique over the whole life of the loop: the first run id of
 * the continue-as-new chain keeps a loop started again later from reusing an earlier chain's keys.
 */
export function cycleKey(cycle: number, portfolioId: string): string {
  return `${portfolioId}-${workflowInfo().firstExecutionRunId.slice(0, 8)}-c${cycle}`;
}
