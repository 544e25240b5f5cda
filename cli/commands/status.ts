/** `ballast status --portfolio ID`: the loop's state (regime, budget version, pending recommendation, triggers). */
import { statusQuery } from '../../workflows/messages';
import { loopWorkflowId } from '../../workflows/types';
import { parseFlags, requireFlag } from '../args';
import { printJson, withTemporal } from '../context';

export const summary = "show a portfolio loop's status (--portfolio)";

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { portfolio: 'string' });
  const portfolioId = requireFlag(flags.portfolio, 'portfolio');
  return withTemporal(async (client) => {
    printJson(await client.workflow.getHandle(loopWorkflowId(portfolioId)).query(statusQuery));
    return 0;
  });
}
