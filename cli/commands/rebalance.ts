/**
 * `ballast rebalance --portfolio ID --by NAME --reason TEXT [--wait]`: start the manual rebalance
 * workflow. A second one for the same portfolio is refused while the first runs.
 */
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { TASK_QUEUE, manualRebalanceWorkflowId } from '../../workflows/types';
import { TEMPORAL_VARIABLES, environmentHelp, withTemporal } from '../context';
import { UsageError } from '../flags';
import { printJson } from '../output';

interface RebalanceFlags {
  readonly portfolio: string;
  readonly by: string;
  readonly reason: string;
  readonly wait: boolean;
  readonly taskQueue: string;
}

export function define(command: Command): void {
  command
    .description(
      'Start the manual rebalance workflow: it computes a fresh budget and goes through the same approval rule ' +
        'as the loop (a risk-increasing result waits for `ballast approve --manual`). Prints the workflow id as ' +
        'JSON, or with --wait its result. A second one for the same portfolio is refused while one runs.',
    )
    .requiredOption('--portfolio <id>', 'the portfolio to rebalance')
    .requiredOption('--by <name>', 'who asks; recorded with the rebalance')
    .requiredOption('--reason <text>', 'why; recorded with the rebalance')
    .option('--wait', 'wait for the workflow to finish and print its result', false)
    .option('--task-queue <name>', 'the task queue of the Ballast workers', TASK_QUEUE)
    .addHelpText('after', environmentHelp(TEMPORAL_VARIABLES))
    .action(rebalance);
}

async function rebalance(flags: RebalanceFlags): Promise<void> {
  const input = { portfolioId: flags.portfolio, requestedBy: flags.by, reason: flags.reason };
  const workflowId = manualRebalanceWorkflowId(input.portfolioId);
  const result = await withTemporal(async (client) => {
    try {
      const handle = await client.workflow.start('manualRebalance', {
        taskQueue: flags.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [input],
        // What the Temporal UI lists beside the id; the current details explain the pending change.
        staticSummary: `Manual rebalance of ${input.portfolioId} requested by ${input.requestedBy}: ${input.reason}`.replace(/\s+/g, ' '),
      });
      process.stderr.write(
        `[ballast] started ${workflowId}; a risk-increasing result waits for someone other than ${input.requestedBy}: ballast approve --manual --portfolio ${input.portfolioId} ...\n`,
      );
      return flags.wait ? await handle.result() : { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new UsageError(`a manual rebalance is already running for ${input.portfolioId} (${workflowId})`);
      throw err;
    }
  });
  await printJson(result);
}
