/** `ballast metrics --portfolio ID [--since 1d]`: the success metrics over a window, as JSON. */
import { metricsSummary } from '../../db/stores/metrics';
import { duration } from '../../risk/config';
import { parseFlags, requireFlag } from '../args';
import { printJson, withDatabase } from '../context';

export const summary = 'success metrics of a portfolio over a window (--portfolio [--since 1d])';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { portfolio: 'string', since: 'string' });
  const portfolioId = requireFlag(flags.portfolio, 'portfolio');
  const sinceMs = duration(flags.since ?? '1d', '--since');
  printJson(await withDatabase((pool) => metricsSummary(pool, portfolioId, sinceMs)));
  return 0;
}
