/**
 * `ballast risk`: estimate a covariance from a daily price file and print an allocation with its risk
 * decomposition as JSON on stdout. Returns are simple returns on the dates where every selected asset has
 * a price (no forward fill); covariance and volatility are annualized by --periods-per-year (default 252)
 * after estimation; risk contributions are relative (sum to 1); arrays follow the order of `assets`.
 * `iterations` counts Newton steps (CCD sweeps if the fallback ran; 0 for the closed-form ivol/HRP), after
 * `warmStartSweeps` CCD sweeps; `budgetError` is max |RC_i/σ − b_i|; `repaired` reports an eigenvalue floor.
 */
import type { Command } from 'commander';
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
import { UsageError, between, dateRange, isoDate, list, numberList, oneOf, option, positiveNumber } from '../flags';
import { printJson } from '../output';

const COVARIANCES = ['sample', 'ewma', 'lw', 'lw-cc'] as const;
const METHODS = ['erc', 'rb', 'ivol', 'hrp'] as const;
type Method = (typeof METHODS)[number];

interface RiskFlags {
  readonly prices: string;
  readonly start?: string;
  readonly end?: string;
  readonly assets?: string[];
  readonly cov: (typeof COVARIANCES)[number];
  readonly lambda?: number;
  readonly method: Method;
  readonly budget?: number[];
  readonly periodsPerYear: number;
}

export function define(command: Command): void {
  command
    .description(
      'Estimate an annualized covariance from a daily price file and print an allocation with its risk ' +
        'decomposition as one JSON document: assets, observations, covariance, shrinkage, weights, ' +
        'riskContributions (relative, sum to 1), portfolioVol, solver, iterations, warmStartSweeps, budgetError, repaired. ' +
        'Returns are simple returns on the dates where every selected asset has a price.',
    )
    .requiredOption('--prices <file>', 'daily prices: CSV (, or ;), optionally gzipped, first column the date')
    .addOption(option('--start <date>', 'first price date used, YYYY-MM-DD (default: the first in the file)', isoDate))
    .addOption(option('--end <date>', 'last price date used, YYYY-MM-DD (default: the last in the file)', isoDate))
    .addOption(option('--assets <names>', 'comma-separated price columns, in output order (default: every column)', list))
    .addOption(
      option(
        '--cov <estimator>',
        'covariance: sample, ewma (exponentially weighted), lw (Ledoit–Wolf), lw-cc (Ledoit–Wolf, constant correlation)',
        oneOf(COVARIANCES),
      ).default('sample'),
    )
    .addOption(option('--lambda <decay>', 'EWMA decay in (0, 1), with --cov ewma only (default: 0.94)', between(0, 1)))
    .addOption(
      option(
        '--method <method>',
        'allocation: erc (equal risk), rb (risk budgets from --budget), ivol (inverse vol), hrp (hierarchical risk parity)',
        oneOf(METHODS),
      ).default('erc'),
    )
    .addOption(option('--budget <b1,b2,...>', 'risk budgets for --method rb, one per asset, summing to 1', numberList))
    .addOption(option('--periods-per-year <n>', 'annualization factor (252 equities, 365 crypto)', positiveNumber).default(252))
    .action(risk);
}

async function risk(flags: RiskFlags): Promise<void> {
  const { start, end, assets, method } = flags;
  dateRange(start, end);
  const covSpec = covarianceSpec(flags.cov, flags.lambda);
  const budget = budgetFlag(flags.budget, method);
  const periods = periodsPerYear(flags.periodsPerYear);
  const table = sliceTable(readPriceFile(flags.prices), { start, end, assets });
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
  await printJson(output, 'compact');
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

function covarianceSpec(cov: RiskFlags['cov'], lambda: number | undefined): CovarianceSpec {
  if (lambda !== undefined && cov !== 'ewma') throw new UsageError('--lambda only applies to --cov ewma');
  switch (cov) {
    case 'sample':
      return { estimator: 'sample' };
    case 'ewma':
      return { estimator: 'ewma', lambda: lambda ?? 0.94 };
    case 'lw':
      return { estimator: 'ledoit-wolf' };
    case 'lw-cc':
      return { estimator: 'ledoit-wolf-cc' };
  }
}

function budgetFlag(budget: number[] | undefined, method: Method): number[] | undefined {
  if (method === 'rb' && budget === undefined) throw new UsageError('--method rb needs --budget b1,b2,...');
  if (budget === undefined) return undefined;
  if (method !== 'rb' && method !== 'erc') throw new UsageError(`--budget does not apply to --method ${method}`);
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
