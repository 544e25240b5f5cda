/** Shared body of `ballast approve` and `ballast reject`: a validated Workflow Update. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate } from '../workflows/messages';
import { loopWorkflowId, manualRebalanceWorkflowId } from '../workflows/types';
import { parseFlags, requireFlag } from './args';
import { UsageError } from './main';
import { printJson, withTemporal } from './context';

export async function decide(kind: 'approve' | 'reject', argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { portfolio: 'string', recommendation: 'string', by: 'string', reason: 'string', manual: 'boolean' });
  const portfolioId = requireFlag(flags.portfolio, 'portfolio');
  const decision = {
    recommendationId: requireFlag(flags.recommendation, 'recommendation'),
    approver: requireFlag(flags.by, 'by'),
    reason: requireFlag(flags.reason, 'reason'),
  };
  const workflowId = flags.manual ? manualRebalanceWorkflowId(portfolioId) : loopWorkflowId(portfolioId);
  return withTemporal(async (client) => {
    try {
      const result = await client.workflow
        .getHandle(workflowId)
        .executeUpdate(kind === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] });
      printJson(result);
      return 0;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UsageError(`refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  });
}
