/** `ballast feed --feed ID --regime calm|crisis`: switch a synthetic feed's regime from the next bar on. */
import { createPool, DEFAULT_DATABASE_URL } from '../../db/pool';
import { FeedStore } from '../../market/feedStore';
import { parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';

export const summary = 'switch a synthetic market feed between calm and crisis';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { feed: 'string', regime: 'string' });
  const feedId = requireFlag(flags.feed, 'feed');
  const regime = requireFlag(flags.regime, 'regime');
  if (regime !== 'calm' && regime !== 'crisis') throw new UsageError(`--regime must be calm or crisis, got "${regime}"`);
  const pool = createPool(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, 1);
  try {
    const bar = await new FeedStore(pool).setRegime(feedId, regime);
    process.stdout.write(`${JSON.stringify({ feed: feedId, regime, fromBar: bar })}\n`);
    return 0;
  } finally {
    await pool.end();
  }
}
