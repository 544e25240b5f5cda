/**
 * `ballast rebalance --portfolio ID --by NAME --reason TEXT [--wait]`: start the manual rebalance
 * workflow. A second one for the same portfolio is refused while the first runs.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { TASK_QUEUE, manualRebalanceWorkflowId } from '../../workflows/types';
import { parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';
import { printJson, withTemporal } from '../context';

export const summary = 'start a manual rebalance (--portfolio --by --reason [--wait])';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { portfolio: 'string', by: 'string', reason: 'string', wait: 'boolean', 'task-queue': 'string' });
  const input = {
    portfolioId: requireFlag(flags.portfolio, 'portfolio'),
    requestedBy: requireFlag(flags.by, 'by'),
    reason: requireFlag(flags.reason, 'reason'),
  };
  const workflowId = manualRebalanceWorkflowId(input.portfolioId);
  return withTemporal(async (client) => {
    try {
      const handle = await client.workflow.start('manualRebalance', {
        taskQueue: flags['task-queue'] ?? TASK_QUEUE,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [input],
      });
      process.stderr.write(
        `[ballast] started ${workflowId}; a risk-increasing result waits for: ballast approve --manual --portfolio ${input.portfolioId} ...\n`,
      );
      printJson(flags.wait ? await handle.result() : { workflowId, runId: handle.firstExecutionRunId });
      return 0;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new UsageError(`a manual rebalance is already running for ${input.portfolioId} (${workflowId})`);
      throw err;
    }
  });
}
