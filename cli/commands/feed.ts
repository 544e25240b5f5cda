/** `ballast feed --feed ID --regime calm|crisis`: switch a synthetic feed's regime from the next bar on. */
import { FeedStore } from '../../db/stores/marketFeeds';
import { parseFlags, requireFlag } from '../args';
import { withDatabase } from '../context';
import { UsageError } from '../main';

export const summary = 'switch a synthetic market feed between calm and crisis';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { feed: 'string', regime: 'string' });
  const feedId = requireFlag(flags.feed, 'feed');
  const regime = requireFlag(flags.regime, 'regime');
  if (regime !== 'calm' && regime !== 'crisis') throw new UsageError(`--regime must be calm or crisis, got "${regime}"`);
  const bar = await withDatabase((pool) => new FeedStore(pool).setRegime(feedId, regime));
  process.stdout.write(`${JSON.stringify({ feed: feedId, regime, fromBar: bar })}\n`);
  return 0;
}
