/**
 * `ballast portfolio create|update|list|show`: portfolios from a portfolio file (`portfolio:` and
 * `risk_budgeting:`, config/demo-portfolio.yaml is one), their versioned policy, and their loops,
 * which these commands start (processes/portfolios.ts builds the workflow input from the stored policy).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PortfolioPolicyStore } from '../../db/stores/portfolioPolicies';
import { createPortfolio, listPortfolios, showPortfolio, updatePolicy } from '../../processes/portfolios';
import { loadPortfolioSpecText } from '../../risk/portfolioSpec';
import { DATABASE_VARIABLES, TEMPORAL_VARIABLES, environmentHelp, withDatabase, withTemporal } from '../context';
import { UsageError } from '../flags';
import { printJson } from '../output';

const ENVIRONMENT = environmentHelp([...TEMPORAL_VARIABLES, ...DATABASE_VARIABLES]);

export function define(command: Command): void {
  command.description(
    'Create portfolios from a portfolio file, change their policy (versioned; risk-adding changes wait for approval), list and show them.',
  );
  command
    .command('create')
    .description('Register the portfolio a file describes (policy version 1) and start its control loop; print the result as JSON.')
    .requiredOption('--file <path>', 'the portfolio file (YAML: portfolio: {id, base_currency, market_data}, risk_budgeting: {...})')
    .option('--by <name>', 'who creates it; recorded with the policy version', process.env.USER ?? 'operator')
    .addHelpText('after', ENVIRONMENT)
    .action(async (flags: { file: string; by: string }) => {
      const spec = loadPortfolioSpecText(await readText(flags.file));
      const result = await withDatabase((pool) =>
        withTemporal((client) =>
          createPortfolio({ client, policies: new PortfolioPolicyStore(pool) }, spec, {
            requestedBy: flags.by,
            source: resolve(flags.file),
          }),
        ),
      );
      await printJson(result);
    });
  command
    .command('update')
    .description(
      "Propose a new version of the portfolio's policy (the risk_budgeting section of the file) to its loop. One that adds " +
        'risk (higher vol target, leverage, limits, capital) waits for approval of the budget it produces (`ballast approve`).',
    )
    .requiredOption('--portfolio <id>', 'the portfolio')
    .requiredOption('--file <path>', 'the new policy (a portfolio file or a risk_budgeting document)')
    .requiredOption('--reason <text>', 'why; recorded with the version')
    .option('--by <name>', 'who asks; recorded with the version', process.env.USER ?? 'operator')
    .addHelpText('after', ENVIRONMENT)
    .action(async (flags: { portfolio: string; file: string; reason: string; by: string }) => {
      const text = await readText(flags.file);
      const result = await withDatabase((pool) =>
        withTemporal((client) =>
          updatePolicy({ client, policies: new PortfolioPolicyStore(pool) }, flags.portfolio, text, {
            requestedBy: flags.by,
            reason: flags.reason,
            source: resolve(flags.file),
          }),
        ),
      );
      await printJson(result);
    });
  command
    .command('list')
    .description('Print every portfolio created from a file, with its policy and budget versions, as JSON.')
    .addHelpText('after', environmentHelp(DATABASE_VARIABLES))
    .action(async () => printJson(await withDatabase((pool) => listPortfolios(new PortfolioPolicyStore(pool)))));
  command
    .command('show')
    .description('Print one portfolio, the policy in force and every policy version with its status, as JSON.')
    .requiredOption('--portfolio <id>', 'the portfolio')
    .addHelpText('after', environmentHelp(DATABASE_VARIABLES))
    .action(async (flags: { portfolio: string }) =>
      printJson(await withDatabase((pool) => showPortfolio(new PortfolioPolicyStore(pool), flags.portfolio))),
    );
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
