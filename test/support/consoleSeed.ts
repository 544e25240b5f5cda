/**
 * A portfolio for the console's panel tests, written through the real stores: two budget versions
 * (the second names a hostile strategy and a stored risk model), regime readings every minute, a
 * regime switch before and inside the last hour, an override in force and a revoked one, positions.
 */
import type pg from 'pg';
import type { Desk } from '../../console/desk';
import { BudgetStore } from '../../db/stores/budgets';
import type { DecisionRecord } from '../../db/stores/gateDecisions';
import { MetricsStore } from '../../db/stores/metrics';
import { OverrideStore } from '../../db/stores/overrides';
import { RecommendationStore } from '../../db/stores/recommendations';
import { RegimeChangeStore } from '../../db/stores/regimeChanges';
import type { Recommendation } from '../../risk/approval';
import { RiskModelStore } from '../../db/stores/riskModels';
import type { RiskBudget } from '../../risk/budget';
import { covarianceFromRows } from '../../risk/covariance';
import { denseRiskModel, riskModelId } from '../../risk/riskModel';
import type { AnnualizedVol, Fraction } from '../../risk/units';
import { budget } from '../unit/risk/pretrade/fixtures';

export const XSS = '<img src=x onerror=alert(1)>';

/** An approved EvaluateTrade of trend/AAPL at 100 on budget v2, as a gate records it; `fields` override. */
export const decisionRow = (
  portfolioId: string,
  fields: Partial<DecisionRecord> & Pick<DecisionRecord, 'decisionId' | 'quantity'>,
): DecisionRecord => ({
  decidedAtMs: Date.now() - 1_000,
  rpc: 'EvaluateTrade',
  caller: 'oms',
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: 'BUY',
  price: 100,
  clientOrderId: fields.decisionId,
  decision: 'APPROVE',
  approvedQuantity: fields.quantity,
  reasons: [],
  detail: '',
  budgetVersion: 2,
  tradingState: 'ACTIVE',
  latencyUs: 40,
  ...fields,
});

/** AAPL σ 20 %, MSFT σ 20 %, XOM σ 30 %, uncorrelated. */
export const MODEL = denseRiskModel(
  covarianceFromRows(
    'annualized',
    ['AAPL', 'MSFT', 'XOM'],
    [
      [0.04, 0, 0],
      [0, 0.04, 0],
      [0, 0, 0.09],
    ],
  ),
);

export interface Seeded {
  readonly overrideActive: number;
  readonly overrideRevoked: number;
  /** Minutes ago of each regime reading written (every 5 minutes over the last 2 hours). */
  readonly readingsAt: readonly Date[];
}

export async function seedPanels(pool: pg.Pool, portfolioId: string, now = Date.now()): Promise<Seeded> {
  const budgets = new BudgetStore(pool);
  await budgets.ensurePortfolio(portfolioId);
  const v1 = budget(portfolioId);
  await budgets.commitBudget(`${portfolioId}-v1`, v1);
  const modelId = await new RiskModelStore(pool).put(MODEL);
  const v2: RiskBudget = {
    ...v1,
    regime: 'crisis',
    strategies: v1.strategies.map((s) => (s.strategy === 'carry' ? { ...s, strategy: XSS } : s)),
    assets: v1.assets.map((a) => (a.strategy === 'carry' ? { ...a, strategy: XSS } : a)),
    riskLimits: {
      modelId,
      form: 'dense',
      assetCount: 3,
      volLimit: 0.1 as AnnualizedVol,
      riskBudgetTolerance: 0.1 as Fraction,
    },
  };
  if (modelId !== riskModelId(MODEL)) throw new Error('model id mismatch');
  await budgets.commitBudget(`${portfolioId}-v2`, v2);

  const changes = new RegimeChangeStore(pool);
  await changes.record(`${portfolioId}-rc0`, portfolioId, {
    from: 'bull',
    to: 'calm',
    detectedAsOf: '2026-01-01',
    detectedAtMs: now - 3 * 3_600_000,
  } as never);
  await changes.record(`${portfolioId}-rc1`, portfolioId, {
    from: 'calm',
    to: 'crisis',
    detectedAsOf: '2026-01-05',
    detectedAtMs: now - 20 * 60_000,
    committedAtMs: now - 20 * 60_000 + 300,
    committedVersion: 2,
  } as never);

  const readingsAt = Array.from({ length: 24 }, (_, i) => new Date(now - (i * 5 + 1) * 60_000));
  await new MetricsStore(pool).record(
    readingsAt.flatMap((at, i) => {
      const crisis = at.getTime() > now - 20 * 60_000 ? 0.9 : 0.1;
      return [
        {
          idempotencyKey: `${portfolioId}-p${i}-calm`,
          portfolioId,
          name: 'regime_probability' as const,
          value: 1 - crisis,
          labels: { regime: 'calm' },
          observedAt: at,
        },
        {
          idempotencyKey: `${portfolioId}-p${i}-crisis`,
          portfolioId,
          name: 'regime_probability' as const,
          value: crisis,
          labels: { regime: 'crisis' },
          observedAt: at,
        },
      ];
    }),
  );

  const overrides = new OverrideStore(pool);
  const overrideActive = await overrides.create(`${portfolioId}-o1`, portfolioId, {
    field: 'maxGrossNotional',
    value: 500_000,
    reason: `month end ${XSS}`,
    approver: 'ann',
    requestedBy: 'olga',
    expiresAt: new Date(now + 3_600_000).toISOString(),
  });
  const overrideRevoked = await overrides.create(`${portfolioId}-o2`, portfolioId, {
    field: 'maxNetNotional',
    value: 10,
    reason: 'oops',
    approver: 'ann',
    requestedBy: 'olga',
    expiresAt: new Date(now + 3_600_000).toISOString(),
  });
  await overrides.revoke(`${portfolioId}-o2-revoke`, portfolioId, { overrideId: overrideRevoked, operator: 'ann', reason: 'wrong field' });

  // A pending proposal back to calm: gross limit 600k → 900k and forecast vol 11 % → 14 %, explained by its trigger.
  const proposal: Recommendation = {
    id: `${portfolioId}-r3`,
    portfolioId,
    createdAtMs: now - 30_000,
    expiresAtMs: now + 10 * 60_000,
    reason: 'regime-change: calm',
    addsRisk: true,
    triggers: [
      { kind: 'regime-change', fired: true, value: 'calm', threshold: null, detail: 'crisis → calm after 17 bars' },
      { kind: 'drift', fired: true, value: 0.12, threshold: 0.05, detail: `largest drift ${XSS}` },
      { kind: 'vol-breach', fired: false, value: 0.1, threshold: 0.2 },
    ],
    budget: {
      ...v2,
      regime: 'calm',
      forecastVol: 0.14 as AnnualizedVol,
      limits: { ...v2.limits, maxGrossNotional: 900_000 as RiskBudget['limits']['maxGrossNotional'] },
    },
    baseVersion: 2,
    summary: {} as Recommendation['summary'],
  };
  await new RecommendationStore(pool).record(proposal, 'PENDING', null);

  // trend: 1 000 AAPL at 100 (σ 20k); the hostile strategy: 1 000 XOM at 50 (σ 15k) → shares 0.64 / 0.36.
  await pool.query('INSERT INTO positions (portfolio_id, strategy, asset, quantity) VALUES ($1, $2, $3, $4), ($1, $5, $6, $7)', [
    portfolioId,
    'trend',
    'AAPL',
    1_000,
    XSS,
    'XOM',
    1_000,
  ]);
  return { overrideActive, overrideRevoked, readingsAt };
}

/** A desk for read-only tests: any change is a test failure. */
export const noDesk: Desk = new Proxy({} as Desk, {
  // (`then` stays undefined: the proxy is not a promise.)
  get: (_t, name) =>
    name === 'then'
      ? undefined
      : async () => {
          if (name === 'loop') return undefined;
          throw new Error(`the desk was asked to ${String(name)}`);
        },
});
