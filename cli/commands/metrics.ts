/** `ballast metrics --portfolio ID [--since 1d]`: the success metrics over a window, as JSON. */
import type { Command } from 'commander';
import { metricsSummary } from '../../db/stores/metrics';
import { DATABASE_VARIABLES, environmentHelp, withDatabase } from '../context';
import { durationMs, option } from '../flags';
import { printJson } from '../output';

export function define(command: Command): void {
  command
    .description(
      "Summarize a portfolio's success metrics over a window and print them as JSON: risk and gross utilization, " +
        'realized against target vol, return per unit of risk, regime response and approval latencies, overrides.',
    )
    .requiredOption('--portfolio <id>', 'the portfolio to summarize')
    .addOption(
      option('--since <duration>', 'the window, back from now (500ms, 10s, 5m, 1h, 1d)', durationMs).default(durationMs('1d'), '1d'),
    )
    .addHelpText('after', environmentHelp(DATABASE_VARIABLES))
    .action(async ({ portfolio, since }: { portfolio: string; since: number }) => {
      await printJson(await withDatabase((pool) => metricsSummary(pool, portfolio, since)));
    });
}
