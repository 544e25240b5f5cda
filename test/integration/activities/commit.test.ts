/**
 * The commit activity against Postgres: version, status and outbox plan land together; a commit whose
 * base moved and that would add risk to the new latest version is refused; a key is never reused for
 * a different budget.
 */
import type pg from 'pg';
import { writeActivities } from '../../../activities/writes';
import { createStores } from '../../../db/stores';
import { BudgetStore, IdempotencyConflict } from '../../../db/stores/budgets';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { MarketDataService } from '../../../market/source';
import type { Recommendation } from '../../../risk/approval';
import type { RiskBudget } from '../../../risk/budget';
import { budget } from '../../unit/risk/pretrade/fixtures';
import { testLogger, testPool, uniqueId } from '../../support/env';

const scaled = (b: RiskBudget, portfolioId: string, k: number): RiskBudget => ({
  ...b,
  portfolioId,
  limits: {
    ...b.limits,
    maxGrossNotional: (b.limits.maxGrossNotional * k) as never,
    maxNetNotional: (b.limits.maxNetNotional * k) as never,
  },
  assets: b.assets.map((a) => ({ ...a, maxPositionNotional: (a.maxPositionNotional * k) as never })),
});

const recommendation = (id: string, b: RiskBudget, baseVersion: number | null): Recommendation => ({
  id,
  portfolioId: b.portfolioId,
  createdAtMs: Date.now(),
  expiresAtMs: null,
  reason: 'test',
  addsRisk: false,
  triggers: [],
  budget: b,
  baseVersion,
  summary: {},
});

describe('committing a recommendation', () => {
  let pool: pg.Pool;
  let acts: ReturnType<typeof writeActivities>;
  let store: BudgetStore;
  beforeAll(() => {
    pool = testPool();
    acts = writeActivities({ stores: createStores(pool), market: new MarketDataService(new FeedStore(pool)), logger: testLogger });
    store = new BudgetStore(pool);
  });
  afterAll(() => pool.end());

  it('writes the version, the COMMITTED status and the outbox plan together, once', async () => {
    const portfolioId = uniqueId('commit');
    await store.ensurePortfolio(portfolioId);
    const rec = recommendation(`${portfolioId}-r1`, scaled(budget(), portfolioId, 1), null);
    const first = await acts.commitRecommendation({ recommendation: rec });
    const retry = await acts.commitRecommendation({ recommendation: rec });
    expect(first).toEqual({ version: 1, created: true, refused: null });
    expect(retry).toEqual({ version: 1, created: false, refused: null });
    const { rows } = await pool.query('SELECT status, committed_version FROM recommendations WHERE id = $1', [rec.id]);
    expect(rows).toEqual([{ status: 'COMMITTED', committed_version: 1 }]);
    const plans = await pool.query('SELECT budget_version FROM rebalance_outbox WHERE portfolio_id = $1', [portfolioId]);
    expect(plans.rows).toEqual([{ budget_version: 1 }]);
  });

  it('refuses a commit whose base moved when it would add risk to the latest version, and allows one that reduces it', async () => {
    const portfolioId = uniqueId('guard');
    await store.ensurePortfolio(portfolioId);
    const base = scaled(budget(), portfolioId, 1);
    await acts.commitRecommendation({ recommendation: recommendation(`${portfolioId}-base`, base, null) }); // v1
    // Meanwhile a manual rebalance commits a much tighter v2.
    await acts.commitRecommendation({ recommendation: recommendation(`${portfolioId}-manual`, scaled(budget(), portfolioId, 0.5), 1) });
    // The loop's proposal was judged against v1 (tighter than v1, so "reduces risk") but is looser than v2.
    const stale = await acts.commitRecommendation({
      recommendation: recommendation(`${portfolioId}-loop`, scaled(budget(), portfolioId, 0.8), 1),
    });
    expect(stale.refused).toMatch(/moved to version 2 .* would add risk/);
    expect(await store.countVersions(portfolioId)).toBe(2);
    const tighter = await acts.commitRecommendation({
      recommendation: recommendation(`${portfolioId}-loop2`, scaled(budget(), portfolioId, 0.4), 1),
    });
    expect(tighter).toEqual({ version: 3, created: true, refused: null });
  });

  it('never reuses an idempotency key for a different budget', async () => {
    const portfolioId = uniqueId('key');
    await store.ensurePortfolio(portfolioId);
    await store.commitBudget('same-key', scaled(budget(), portfolioId, 1));
    await expect(store.commitBudget('same-key', scaled(budget(), portfolioId, 0.9))).rejects.toThrow(IdempotencyConflict);
  });
});
