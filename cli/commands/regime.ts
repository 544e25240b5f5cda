/**
 * `ballast regime`: fit a Gaussian HMM to the daily log returns of one price column and print the
 * states (calm → turbulent, annualized), the transition matrix, the log-likelihood and the filtered
 * (forward-only, no look-ahead) state probabilities per date as JSON on stdout.
 */
import type { Command } from 'commander';
import { readPriceFile } from '../../market/csvPrices';
import { describeStates, filterProbabilities, fitGaussianHmm, logReturns } from '../../risk/regime';
import { DataError, sliceTable } from '../../risk/timeseries';
import { periodsPerYear } from '../../risk/units';
import { dateRange, integer, isoDate, option } from '../flags';
import { printJson } from '../output';

interface RegimeFlags {
  readonly prices: string;
  readonly column: string;
  readonly start?: string;
  readonly end?: string;
  readonly states: number;
  readonly periodsPerYear: number;
  readonly restarts: number;
  readonly seed: number;
}

export function define(command: Command): void {
  command
    .description(
      'Fit a Gaussian hidden Markov model to the daily log returns of one price column and print one JSON ' +
        'document: states (named calm → turbulent, or bull … crisis, with annualized mean and vol), transition, ' +
        'logLikelihood, observations, iterations, converged, and filtered: [date, p(state 1), …] per return date ' +
        '(forward-only probabilities, no look-ahead, 6 decimals).',
    )
    .requiredOption('--prices <file>', 'daily prices: CSV (, or ;), optionally gzipped, first column the date')
    .requiredOption('--column <name>', 'the price column to fit (an index, e.g. SP500)')
    .addOption(option('--start <date>', 'first price date used, YYYY-MM-DD (default: the first in the file)', isoDate))
    .addOption(option('--end <date>', 'last price date used, YYYY-MM-DD (default: the last in the file)', isoDate))
    .addOption(option('--states <k>', 'number of hidden states, 2 to 8', integer(2, 8)).default(2))
    .addOption(option('--periods-per-year <n>', 'annualization factor of the state statistics', integer(1, 366)).default(252))
    .addOption(option('--restarts <n>', 'EM fits from different seeded starts; the most likely wins', integer(1, 100)).default(5))
    .addOption(option('--seed <n>', 'seed of the starting points (same seed, same fit)', integer(0, 2 ** 31 - 1)).default(1))
    .action(regime);
}

async function regime(flags: RegimeFlags): Promise<void> {
  const { prices, column, start, end, states, restarts, seed } = flags;
  dateRange(start, end);
  const table = sliceTable(readPriceFile(prices), { start, end, assets: [column] });
  const { returns, priceIndex } = logReturns(table.series[0]);
  if (returns.length === 0)
    throw new DataError(`column "${column}" has no returns between ${start ?? 'the start'} and ${end ?? 'the end'}`);

  process.stderr.write(
    `regime: fitting a ${states}-state HMM to ${returns.length} daily log returns of ${column} (${restarts} restarts)\n`,
  );
  const fit = fitGaussianHmm(returns, { states, restarts, seed });
  const filtered = filterProbabilities(fit.model, returns);
  await printJson(
    {
      states: describeStates(fit.model, periodsPerYear(flags.periodsPerYear)),
      transition: fit.model.transition,
      logLikelihood: fit.logLikelihood,
      observations: fit.observations,
      iterations: fit.iterations,
      converged: fit.converged,
      filtered: filtered.map((p, t) => [table.dates[priceIndex[t]], ...Array.from(p, round6)]),
    },
    'compact',
  );
}

/** Filtered probabilities are printed to 6 decimals: enough to read, a third of the size. */
const round6 = (p: number): number => Math.round(p * 1e6) / 1e6;
