/**
 * `ballast risk`: estimate a covariance from a daily price file and print an allocation with its risk
 * decomposition as JSON on stdout. Returns are simple returns on the dates where every selected asset has
 * a price (no forward fill); covariance and volatility are annualized by --periods-per-year (default 252)
 * after estimation; risk contributions are relative (sum to 1); arrays follow the order of `assets`.
 * `iterations` counts Newton steps (CCD sweeps if the fallback ran; 0 for the closed-form ivol/HRP), after
 * `warmStartSweeps` CCD sweeps; `budgetError` is max |RC_i/σ − b_i|; `repaired` reports an eigenvalue floor.
 */
import { readPriceFile } from '../../market/csvPrices';
import {
  BudgetError,
  equalRiskContribution,
  hrpWeights,
  inverseVolWeights,
  riskBudgetingWeights,
  validateBudgets,
} from '../../risk/allocation';
import { type CovarianceMatrix, type CovarianceSpec, annualizeEstimate, covarianceToRows, estimateCovariance } from '../../risk/covariance';
import { portfolioVol, riskContributions } from '../../risk/measures';
import { alignedReturns } from '../../risk/returns';
import { DataError, sliceTable } from '../../risk/timeseries';
import { type Weights, periodsPerYear } from '../../risk/units';
import { isoDateFlag, parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';

export const summary = 'covariance + allocation (erc, risk budgets, inverse vol, HRP) and risk contributions from a price CSV';

const USAGE =
  'usage: ballast risk --prices FILE [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--assets A,B,...] ' +
  '[--cov sample|ewma|lw|lw-cc] [--lambda 0.94] [--method erc|rb|ivol|hrp] [--budget b1,b2,...] [--periods-per-year 252]';

const COVARIANCES = ['sample', 'ewma', 'lw', 'lw-cc'] as const;
const METHODS = ['erc', 'rb', 'ivol', 'hrp'] as const;
type Method = (typeof METHODS)[number];

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    prices: 'string',
    start: 'string',
    end: 'string',
    assets: 'string',
    cov: 'string',
    lambda: 'string',
    method: 'string',
    budget: 'string',
    'periods-per-year': 'string',
  });
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}" (${USAGE})`);
  const file = requireFlag(flags.prices, 'prices');
  const start = isoDateFlag(flags.start, 'start');
  const end = isoDateFlag(flags.end, 'end');
  if (start && end && start > end) throw new UsageError(`--start ${start} is after --end ${end}`);
  const covSpec = covarianceSpec(flags.cov ?? 'sample', flags.lambda);
  const method = oneOf(flags.method ?? 'erc', METHODS, 'method');
  const periods = periodsPerYear(positiveNumber(flags['periods-per-year'] ?? '252', 'periods-per-year'));
  const assets = flags.assets === undefined ? undefined : listFlag(flags.assets, 'assets');
  const budget = budgetFlag(flags.budget, method);

  const table = sliceTable(readPriceFile(file), { start, end, assets });
  if (budget && budget.length !== table.assets.length) {
    throw new UsageError(`--budget has ${budget.length} entries for ${table.assets.length} assets (${table.assets.join(', ')})`);
  }
  if (table.dates.length < 3) {
    throw new DataError(
      `too few observations: ${table.dates.length} price dates between ${start ?? 'the start'} and ${end ?? 'the end'}; need at least 3`,
    );
  }
  const { returns, dropped } = alignedReturns(table, { kind: 'simple', minHistory: 3, minObservations: 2 });
  if (dropped.length > 0) {
    throw new DataError(`too few observations: ${dropped.map((d) => `${d.asset} ${d.reason}`).join('; ')} in the selected dates`);
  }
  process.stderr.write(
    `risk: ${returns.assets.length} assets, ${returns.dates.length} daily returns ${returns.dates[0]} … ${returns.dates[returns.dates.length - 1]}\n`,
  );

  const estimate = annualizeEstimate(estimateCovariance(returns, covSpec), periods);
  const cov = estimate.covariance;
  const { weights, solver, iterations, warmStartSweeps, budgetError } = allocate(method, cov, budget);
  const output = {
    assets: cov.assets,
    observations: estimate.observations,
    covariance: covarianceToRows(cov),
    shrinkage: estimate.shrinkage,
    weights,
    riskContributions: riskContributions(cov, weights).relative,
    portfolioVol: portfolioVol(cov, weights),
    iterations,
    solver,
    warmStartSweeps,
    budgetError,
    repaired: estimate.repaired,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
  return 0;
}

function allocate(
  method: Method,
  cov: CovarianceMatrix,
  budget: readonly number[] | undefined,
): { weights: Weights; solver: string; iterations: number; warmStartSweeps: number; budgetError: number | null } {
  switch (method) {
    case 'erc':
    case 'rb': {
      const r = budget ? riskBudgetingWeights(cov, budget) : equalRiskContribution(cov);
      if (!r.converged)
        throw new DataError(
          `risk budgeting did not converge: budget error ${r.budgetError.toExponential(2)} after ${r.iterations} iterations`,
        );
      return {
        weights: r.weights,
        solver: r.solver,
        iterations: r.iterations,
        warmStartSweeps: r.warmStartSweeps,
        budgetError: r.budgetError,
      };
    }
    case 'ivol':
      return { weights: inverseVolWeights(cov), solver: 'closed-form', iterations: 0, warmStartSweeps: 0, budgetError: null };
    case 'hrp':
      return { weights: hrpWeights(cov).weights, solver: 'closed-form', iterations: 0, warmStartSweeps: 0, budgetError: null };
  }
}

function covarianceSpec(name: string, lambda: string | undefined): CovarianceSpec {
  const cov = oneOf(name, COVARIANCES, 'cov');
  if (lambda !== undefined && cov !== 'ewma') throw new UsageError('--lambda only applies to --cov ewma');
  switch (cov) {
    case 'sample':
      return { estimator: 'sample' };
    case 'ewma': {
      const l = lambda === undefined ? 0.94 : Number(lambda);
      if (!(l > 0 && l < 1)) throw new UsageError(`--lambda must be a number in (0, 1), got "${lambda}"`);
      return { estimator: 'ewma', lambda: l };
    }
    case 'lw':
      return { estimator: 'ledoit-wolf' };
    case 'lw-cc':
      return { estimator: 'ledoit-wolf-cc' };
  }
}

function budgetFlag(value: string | undefined, method: Method): number[] | undefined {
  if (method === 'rb' && value === undefined) throw new UsageError('--method rb needs --budget b1,b2,...');
  if (value === undefined) return undefined;
  if (method !== 'rb' && method !== 'erc') throw new UsageError(`--budget does not apply to --method ${method}`);
  const parts = listFlag(value, 'budget');
  const budget = parts.map((p) => {
    const x = Number(p);
    if (!Number.isFinite(x)) throw new UsageError(`--budget entry "${p}" is not a number`);
    return x;
  });
  try {
    validateBudgets(budget, budget.length, '--budget');
  } catch (err) {
    if (err instanceof BudgetError) throw new UsageError(err.message);
    throw err;
  }
  if (method === 'erc' && budget.some((b) => Math.abs(b - 1 / budget.length) > 1e-12)) {
    throw new UsageError('--method erc uses equal budgets; use --method rb for a custom --budget');
  }
  return budget;
}

function listFlag(value: string, name: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--${name} has an empty entry: "${value}"`);
  return parts;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join('|')}, got "${value}"`);
  return value as T;
}

function positiveNumber(value: string, name: string): number {
  const x = Number(value);
  if (!(x > 0) || !Number.isFinite(x)) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return x;
}
