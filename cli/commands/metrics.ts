/** `ballast metrics --portfolio ID [--since 1d]`: the success metrics over a window, as JSON. */
import { metricsSummary } from '../../db/metricsReader';
import { DEFAULT_DATABASE_URL, createPool } from '../../db/pool';
import { duration } from '../../risk/config';
import { parseFlags, requireFlag } from '../args';
import { printJson } from '../temporal';

export const summary = 'success metrics of a portfolio over a window (--portfolio [--since 1d])';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { portfolio: 'string', since: 'string' });
  const portfolioId = requireFlag(flags.portfolio, 'portfolio');
  const sinceMs = duration(flags.since ?? '1d', '--since');
  const pool = createPool(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, 1);
  try {
    printJson(await metricsSummary(pool, portfolioId, sinceMs));
    return 0;
  } finally {
    await pool.end();
  }
}
