/**
 * The cycle's metrics activity against Postgres: the regime reading's filtered probabilities land as
 * `regime_probability` points (the console's regime timeline), and the cycle's NOTIFY on
 * `ballast_cycle` is sent only after they are in.
 */
import pg from 'pg';
import { writeActivities } from '../../../activities/writes';
import { createStores } from '../../../db/stores';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { MarketDataService } from '../../../market/source';
import { testEnv, testLogger, testPool, uniqueId } from '../../support/env';

describe('recordMetrics', () => {
  let pool: pg.Pool;
  let listener: pg.Client;
  beforeAll(async () => {
    pool = testPool();
    listener = new pg.Client({ connectionString: testEnv().databaseUrl });
    await listener.connect();
    await listener.query('LISTEN ballast_cycle');
  });
  afterAll(async () => {
    await listener?.end();
    await pool?.end();
  });

  it('records each regime probability, then announces the cycle with them already readable', async () => {
    const acts = writeActivities({ stores: createStores(pool), market: new MarketDataService(new FeedStore(pool)), logger: testLogger });
    const portfolioId = uniqueId('metrics');
    const seenAtNotify = new Promise<number>((resolve) => {
      listener.on('notification', (msg) => {
        if (JSON.parse(msg.payload ?? '{}').portfolioId !== portfolioId) return;
        void pool
          .query<{ n: string }>("SELECT count(*) AS n FROM metrics WHERE portfolio_id = $1 AND name = 'regime_probability'", [portfolioId])
          .then((r) => resolve(Number(r.rows[0].n)));
      });
    });
    await acts.recordMetrics({
      idempotencyKey: `${portfolioId}:c1:metrics`,
      portfolioId,
      ref: { kind: 'synthetic', feedId: 'none' } as never,
      budget: null,
      reading: { regimes: ['calm', 'turbulent'], probabilities: [0.25, 0.75], method: 'hmm', realizedVol: 0.3 } as never,
    });
    expect(await seenAtNotify).toBe(2);
    const { rows } = await pool.query<{ regime: string; value: number }>(
      "SELECT labels->>'regime' AS regime, value FROM metrics WHERE portfolio_id = $1 AND name = 'regime_probability' ORDER BY 1",
      [portfolioId],
    );
    expect(rows).toEqual([
      { regime: 'calm', value: 0.25 },
      { regime: 'turbulent', value: 0.75 },
    ]);
  });
});
