/** Lookups the console's routes share. */
import type { PortfolioRow } from '../../db/stores/consoleReads';
import type { ConsoleReads } from '../context';
import { Problem } from '../problem';

/** The portfolio, or a 404 problem document naming it. */
export async function requirePortfolio(reads: Pick<ConsoleReads, 'portfolio'>, id: string): Promise<PortfolioRow> {
  const p = await reads.portfolio(id);
  if (!p) throw new Problem('not-found', `there is no portfolio "${id}"`);
  return p;
}
