/** The shape of `ballast approve` and `ballast reject`: one validated Workflow Update on the loop (or the manual rebalance). */
import type { Command } from 'commander';
import { approveUpdate, rejectUpdate } from '../workflows/messages';
import { loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';
import { TEMPORAL_VARIABLES, environmentHelp, withTemporal } from './context';
import { sendUpdate } from './desk';
import { printJson } from './output';

interface DecisionFlags {
  readonly portfolio: string;
  readonly recommendation: string;
  readonly by: string;
  readonly reason: string;
  readonly manual: boolean;
}

export function decisionCommand(kind: 'approve' | 'reject'): (command: Command) => void {
  return (command) =>
    command
      .description(
        `${kind === 'approve' ? 'Approve' : 'Reject'} a pending recommendation through the loop's validated Update ` +
          `(${kind === 'approve' ? 'approveRecommendation' : 'rejectRecommendation'}) and print the result as JSON. ` +
          'An unknown or already decided recommendation, or approving a risk-increasing change you requested, is refused (exit code 2).',
      )
      .requiredOption('--portfolio <id>', 'the portfolio whose recommendation it is')
      .requiredOption('--recommendation <id>', 'the pending recommendation (see `ballast status`)')
      .requiredOption('--by <name>', 'who decides; recorded with the decision')
      .requiredOption('--reason <text>', 'why; recorded with the decision')
      .option('--manual', "decide on the manual rebalance's recommendation instead of the loop's", false)
      .addHelpText('after', environmentHelp(TEMPORAL_VARIABLES))
      .action((flags: DecisionFlags) => decide(kind, flags));
}

async function decide(kind: 'approve' | 'reject', flags: DecisionFlags): Promise<void> {
  const workflowId = flags.manual ? manualRebalanceWorkflowId(flags.portfolio) : loopWorkflowId(flags.portfolio);
  const decision = { recommendationId: flags.recommendation, approver: flags.by, reason: flags.reason };
  const result = await withTemporal((client) =>
    sendUpdate(client, workflowId, kind === 'approve' ? approveUpdate : rejectUpdate, decision),
  );
  await printJson(result);
}
