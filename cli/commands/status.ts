/** `ballast status --portfolio ID`: the loop's state as JSON (regime, budget version, pending recommendation, triggers). */
import type { Command } from 'commander';
import { statusQuery } from '../../workflows/messages';
import { loopWorkflowId } from '../../workflows/types';
import { TEMPORAL_VARIABLES, environmentHelp, withTemporal } from '../context';
import { printJson } from '../output';

export function define(command: Command): void {
  command
    .description(
      "Ask a portfolio's control loop for its status (the `status` Query) and print it as JSON: regime, " +
        'budget version, gross limit, pending recommendation, triggers, last error.',
    )
    .requiredOption('--portfolio <id>', 'the portfolio whose loop to ask')
    .addHelpText('after', environmentHelp(TEMPORAL_VARIABLES))
    .action(async ({ portfolio }: { portfolio: string }) => {
      const status = await withTemporal((client) => client.workflow.getHandle(loopWorkflowId(portfolio)).query(statusQuery));
      await printJson(status);
    });
}
