/**
 * `ballast regime`: fit a Gaussian HMM to the daily log returns of one price column and print the
 * states (calm → turbulent, annualized), the transition matrix, the log-likelihood and the filtered
 * (forward-only, no look-ahead) state probabilities per date as JSON on stdout.
 */
import { readPriceFile } from '../../market/csvPrices';
import { describeStates, filterProbabilities, fitGaussianHmm, logReturns } from '../../risk/regime';
import { DataError, sliceTable } from '../../risk/timeseries';
import { periodsPerYear } from '../../risk/units';
import { isoDateFlag, parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';

export const summary = 'fit a Gaussian HMM to index log returns; print states, transitions and filtered probabilities';

const USAGE =
  'usage: ballast regime --prices FILE --column NAME [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--states K] ' +
  '[--periods-per-year N] [--restarts N] [--seed N]';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    prices: 'string',
    column: 'string',
    start: 'string',
    end: 'string',
    states: 'string',
    'periods-per-year': 'string',
    restarts: 'string',
    seed: 'string',
  });
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}" (${USAGE})`);
  const file = requireFlag(flags.prices, 'prices');
  const column = requireFlag(flags.column, 'column');
  const start = isoDateFlag(flags.start, 'start');
  const end = isoDateFlag(flags.end, 'end');
  const states = intFlag(flags.states, 'states', 2, 2, 8);
  const periods = periodsPerYear(intFlag(flags['periods-per-year'], 'periods-per-year', 252, 1, 366));
  const restarts = intFlag(flags.restarts, 'restarts', 5, 1, 100);
  const seed = intFlag(flags.seed, 'seed', 1, 0, 2 ** 31 - 1);
  if (start && end && start > end) throw new UsageError(`--start ${start} is after --end ${end}`);

  const table = sliceTable(readPriceFile(file), { start, end, assets: [column] });
  const { returns, priceIndex } = logReturns(table.series[0]);
  if (returns.length === 0)
    throw new DataError(`column "${column}" has no returns between ${start ?? 'the start'} and ${end ?? 'the end'}`);

  process.stderr.write(
    `regime: fitting a ${states}-state HMM to ${returns.length} daily log returns of ${column} (${restarts} restarts)\n`,
  );
  const fit = fitGaussianHmm(returns, { states, restarts, seed });
  const filtered = filterProbabilities(fit.model, returns);
  const output = {
    states: describeStates(fit.model, periods),
    transition: fit.model.transition,
    logLikelihood: fit.logLikelihood,
    observations: fit.observations,
    iterations: fit.iterations,
    converged: fit.converged,
    filtered: filtered.map((p, t) => [table.dates[priceIndex[t]], ...Array.from(p, round6)]),
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
  return 0;
}

/** Filtered probabilities are printed to 6 decimals: enough to read, a third of the size. */
const round6 = (p: number): number => Math.round(p * 1e6) / 1e6;

function intFlag(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
}
