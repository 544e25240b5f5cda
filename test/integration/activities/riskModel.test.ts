/**
 * A budget's risk model in Postgres: stored once under its content id (a retry writes nothing new),
 * committed budgets carry only the id, and the gate's snapshot read joins the body back in.
 */
import type pg from 'pg';
import { writeActivities } from '../../../activities/writes';
import { createStores } from '../../../db/stores';
import { BudgetStore } from '../../../db/stores/budgets';
import { GateSnapshotsStore } from '../../../db/stores/gateSnapshots';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { RiskModelStore } from '../../../db/stores/riskModels';
import { MarketDataService } from '../../../market/source';
import type { RiskBudget } from '../../../risk/budget';
import { covarianceFromRows } from '../../../risk/covariance';
import { buildSnapshot } from '../../../risk/pretrade/snapshot';
import { denseRiskModel, riskModelId } from '../../../risk/riskModel';
import type { AnnualizedVol, Fraction } from '../../../risk/units';
import { budget } from '../../unit/risk/pretrade/fixtures';
import { testLogger, testPool, uniqueId } from '../../support/env';

const model = denseRiskModel(
  covarianceFromRows(
    'annualized',
    ['AAPL', 'MSFT', 'XOM'],
    [
      [0.04, 0.02, 0],
      [0.02, 0.04, 0],
      [0, 0, 0.09],
    ],
  ),
);

const withModel = (portfolioId: string, modelId: string): RiskBudget => ({
  ...budget(portfolioId),
  riskLimits: { modelId, form: 'dense', assetCount: 3, volLimit: 0.15 as AnnualizedVol, riskBudgetTolerance: 0.1 as Fraction },
});

describe('risk models', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = testPool();
  });
  afterAll(() => pool.end());

  it('stores a model once under its content id and the gate reads it back with the budget naming it', async () => {
    const models = new RiskModelStore(pool);
    const id = await models.put(model);
    expect(id).toBe(riskModelId(model));
    expect(await models.put(model)).toBe(id); // a retried activity: same id, no second row
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM risk_models WHERE id = $1', [id]);
    expect(rows[0].n).toBe(1);

    const portfolioId = uniqueId('riskmodel');
    const acts = writeActivities({ stores: createStores(pool), market: new MarketDataService(new FeedStore(pool)), logger: testLogger });
    await new BudgetStore(pool).ensurePortfolio(portfolioId);
    const b = withModel(portfolioId, id);
    const rec = {
      id: `${portfolioId}-r1`,
      portfolioId,
      createdAtMs: Date.now(),
      expiresAtMs: null,
      reason: 'test',
      addsRisk: false,
      triggers: [],
      budget: b,
      baseVersion: null,
      summary: {},
    };
    await acts.commitRecommendation({ recommendation: rec });

    const [row] = await new GateSnapshotsStore(pool).read(portfolioId);
    expect(row.riskModel).toEqual(model);
    const snapshot = buildSnapshot(row.latest!, row.tradingState, row.overrides, row.loopHeartbeatAtMs, row.riskModel);
    expect(snapshot.risk?.kernel?.diagonal).toEqual(Float64Array.from([0.04, 0.04, 0.09]));
    // A reader that holds the model already gets only the id (the budget), and reuses its kernel.
    const [again] = await new GateSnapshotsStore(pool).read(portfolioId, new Set([id]));
    expect(again.riskModel).toBeUndefined();
    const reused = buildSnapshot(again.latest!, again.tradingState, again.overrides, again.loopHeartbeatAtMs, snapshot.risk!.kernel);
    expect(reused.risk?.kernel).toBe(snapshot.risk!.kernel);
    // The committed budget holds the id, not the matrix.
    const stored = await pool.query(
      `SELECT budget->'riskLimits' AS r, budget ? 'covariance' AS inline FROM budget_versions WHERE portfolio_id = $1`,
      [portfolioId],
    );
    expect(stored.rows[0]).toEqual({ r: b.riskLimits, inline: false });
  });

  it('a budget naming a model that is not stored reads without it (the gate then fails closed)', async () => {
    const portfolioId = uniqueId('nomodel');
    const acts = writeActivities({ stores: createStores(pool), market: new MarketDataService(new FeedStore(pool)), logger: testLogger });
    await new BudgetStore(pool).ensurePortfolio(portfolioId);
    const b = withModel(portfolioId, 'sha256:absent');
    const rec = {
      id: `${portfolioId}-r1`,
      portfolioId,
      createdAtMs: Date.now(),
      expiresAtMs: null,
      reason: 'test',
      addsRisk: false,
      triggers: [],
      budget: b,
      baseVersion: null,
      summary: {},
    };
    await acts.commitRecommendation({ recommendation: rec });
    const [row] = await new GateSnapshotsStore(pool).read(portfolioId);
    expect(row.riskModel).toBeUndefined();
    const snapshot = buildSnapshot(row.latest!, row.tradingState, row.overrides, row.loopHeartbeatAtMs, row.riskModel);
    expect(snapshot.risk?.kernel).toBeUndefined();
    expect(snapshot.risk?.unavailable).toMatch(/sha256:absent .* is not in the store/);
  });
});
