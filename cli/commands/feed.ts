/** `ballast feed --feed ID --regime calm|crisis`: switch a synthetic feed's regime from the next bar on. */
import type { Command } from 'commander';
import { FeedStore } from '../../db/stores/marketFeeds';
import { DATABASE_VARIABLES, environmentHelp, withDatabase } from '../context';
import { oneOf, option } from '../flags';
import { printJson } from '../output';

const REGIMES = ['calm', 'crisis'] as const;

export function define(command: Command): void {
  command
    .description(
      "Switch a synthetic market feed's regime from its next bar on (the demo of `npm start` uses the feed `demo`) " +
        'and print {feed, regime, fromBar} as JSON.',
    )
    .requiredOption('--feed <id>', 'the synthetic feed (its id is the portfolio id)')
    .addOption(option('--regime <regime>', 'calm or crisis', oneOf(REGIMES)).makeOptionMandatory())
    .addHelpText('after', environmentHelp(DATABASE_VARIABLES))
    .action(async ({ feed, regime }: { feed: string; regime: (typeof REGIMES)[number] }) => {
      const fromBar = await withDatabase((pool) => new FeedStore(pool).setRegime(feed, regime));
      await printJson({ feed, regime, fromBar }, 'compact');
    });
}
