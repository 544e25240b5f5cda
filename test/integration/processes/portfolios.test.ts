/**
 * Portfolios from a portfolio file, end to end on the real Temporal server, worker and Postgres: a
 * portfolio created from YAML commits a budget; a policy change that adds no risk is in force at once;
 * one that adds risk waits for approval of the budget it produces and comes into force when approved;
 * an invalid policy is refused naming its key, with nothing written.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { BudgetStore } from '../../../db/stores/budgets';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { PortfolioPolicyStore } from '../../../db/stores/portfolioPolicies';
import { type PortfolioDeps, createPortfolio, updatePolicy } from '../../../processes/portfolios';
import type { RunningWorker } from '../../../processes/worker';
import { ConfigError } from '../../../risk/config';
import { loadPortfolioSpecText } from '../../../risk/portfolioSpec';
import { approveUpdate, statusQuery } from '../../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../../workflows/types';
import { runCliJson } from '../../support/cli';
import { eventually, testClient, testEnv, testPool, testWorker, uniqueId } from '../../support/env';
import { TEST_ASSETS } from '../../support/harness';

const regimes = (bullVol: number, crisisVol: number) => `
  regime_allocations:
    calm: { equity_allocation: 0.9, leverage_limit: 1.0, vol_target: ${bullVol}, max_position_share: 0.4, max_vol: 0.2 }
    crisis: { equity_allocation: 0.5, leverage_limit: 0.6, vol_target: ${crisisVol}, max_position_share: 0.4, max_vol: null }`;

const portfolioFile = (id: string, capital: number, bullVol: number, crisisVol: number) => `
portfolio:
  id: ${id}
  base_currency: USD
  market_data: { kind: synthetic, feed: ${id} }
risk_budgeting:
  capital: ${capital}
  lookback_days: 60
${regimes(bullVol, crisisVol)}
  approval: { timeout: 10m }
`;

describe('portfolios from a policy file', () => {
  const taskQueue = uniqueId('portfolios');
  const dir = mkdtempSync(join(tmpdir(), 'ballast-portfolios-'));
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  let deps: PortfolioDeps;

  beforeAll(async () => {
    process.env.DATABASE_URL = testEnv().databaseUrl; // for the CLI commands run in-process
    pool = testPool();
    temporal = await testClient();
    worker = await testWorker(taskQueue);
    deps = { client: temporal.client, policies: new PortfolioPolicyStore(pool), taskQueue };
  });
  afterAll(async () => {
    await worker?.shutdown();
    await temporal?.close();
    await pool?.end();
  });

  async function create(prefix: string) {
    const id = uniqueId(prefix);
    await new FeedStore(pool).ensureFeed({ id, seed: 11, assets: TEST_ASSETS, barMs: 500, historyBars: 300 });
    const spec = loadPortfolioSpecText(portfolioFile(id, 5_000_000, 0.1, 0.05));
    const result = await createPortfolio(deps, spec, { requestedBy: 'test', source: null, monitoringIntervalMs: 500 });
    const budget = await eventually(() => new BudgetStore(pool).latestBudget(id), 30_000, 'a first budget');
    return { id, result, budget, handle: temporal.client.workflow.getHandle(loopWorkflowId(id)) };
  }

  it('creates a portfolio from YAML, starts its loop and commits a budget under its policy', async () => {
    const { id, result, budget } = await create('pf-create');
    expect(result).toMatchObject({ portfolioId: id, created: true, policyVersion: 1 });
    expect(budget.budget.limits.capital).toBe(5_000_000);
    expect(['calm', 'crisis']).toContain(budget.budget.regime);
    // The stored document keeps the regimes' order (a json column, not jsonb).
    const active = await deps.policies.active(id);
    const stored = active?.document as { risk_budgeting: { regime_allocations: object } };
    expect(Object.keys(stored.risk_budgeting.regime_allocations)).toEqual(['calm', 'crisis']);
    // Creating it again is refused; the loop is not touched.
    const spec = loadPortfolioSpecText(portfolioFile(id, 1, 0.1, 0.05));
    await expect(createPortfolio(deps, spec, { requestedBy: 'test', source: null })).rejects.toThrow(/already exists/);
    const listed = await runCliJson<{ id: string; activePolicyVersion: number }[]>(['portfolio', 'list']);
    expect(listed.find((p) => p.id === id)).toMatchObject({ activePolicyVersion: 1 });
  });

  it('puts a risk-reducing policy in force at once and holds a risk-adding one for approval of its budget', async () => {
    const { id, handle } = await create('pf-policy');
    const reduce = await updatePolicy(deps, id, portfolioFile(id, 5_000_000, 0.08, 0.04), {
      requestedBy: 'desk',
      reason: 'tighter',
      source: null,
    });
    expect(reduce).toMatchObject({ status: 'ACTIVE', version: 2, riskReasons: [] });
    expect((await handle.query<LoopStatus>(statusQuery)).policyVersion).toBe(2);
    const versionsBefore = await new BudgetStore(pool).countVersions(id);

    const add = await updatePolicy(deps, id, portfolioFile(id, 8_000_000, 0.12, 0.04), {
      requestedBy: 'desk',
      reason: 'more risk',
      source: null,
    });
    expect(add.status).toBe('PENDING_APPROVAL');
    expect(add.riskReasons).toEqual(
      expect.arrayContaining([expect.stringContaining('risk_budgeting.capital'), expect.stringContaining('calm.vol_target')]),
    );
    const pending = await eventually(
      async () => (await handle.query<LoopStatus>(statusQuery)).pendingRecommendation ?? undefined,
      30_000,
      "the policy's budget pending approval",
    );
    expect(pending.id).toBe(`${id}-policy-v3`);
    expect(pending.budget.limits.capital).toBe(8_000_000);
    expect((await deps.policies.version(id, 3))?.status).toBe('PENDING_APPROVAL');
    expect((await handle.query<LoopStatus>(statusQuery)).policyVersion).toBe(2);
    // While it waits, the loop runs the policy in force: no budget at the new capital is committed.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await new BudgetStore(pool).latestBudget(id))?.budget.limits.capital).toBe(5_000_000);
    // A second change while one waits is refused, and recorded as such.
    await expect(
      updatePolicy(deps, id, portfolioFile(id, 5_000_000, 0.08, 0.04), { requestedBy: 'desk', reason: 'again', source: null }),
    ).rejects.toThrow(/waiting for approval/);
    expect((await deps.policies.version(id, 4))?.status).toBe('REJECTED');

    const decided = await handle.executeUpdate(approveUpdate, {
      args: [{ recommendationId: pending.id, approver: 'risk-officer', reason: 'approved by committee' }],
    });
    expect(decided.status).toBe('COMMITTED');
    await eventually(async () => ((await deps.policies.version(id, 3))?.status === 'ACTIVE' ? true : undefined), 10_000, 'v3 active');
    expect((await handle.query<LoopStatus>(statusQuery)).policyVersion).toBe(3);
    expect(await new BudgetStore(pool).countVersions(id)).toBeGreaterThan(versionsBefore);
    expect((await new BudgetStore(pool).latestBudget(id))?.budget.limits.capital).toBe(8_000_000);
    const shown = await runCliJson<{ activePolicyVersion: number; versions: { version: number; status: string }[] }>([
      'portfolio',
      'show',
      '--portfolio',
      id,
    ]);
    expect(shown.activePolicyVersion).toBe(3);
    expect(shown.versions.map((v) => v.status)).toEqual(['REJECTED', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
  });

  it('refuses an invalid policy naming its key, writing nothing', async () => {
    const id = uniqueId('pf-bad');
    expect(() => loadPortfolioSpecText(portfolioFile(id, -1, 0.1, 0.05))).toThrow(ConfigError);
    expect(() => loadPortfolioSpecText(portfolioFile(id, -1, 0.1, 0.05))).toThrow(/risk_budgeting\.capital/);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, portfolioFile(id, 1_000, 0.1, 0.05).replace('lookback_days', 'lookback_dayz'));
    await expect(runCliJson(['portfolio', 'create', '--file', file])).rejects.toThrow(/risk_budgeting\.lookback_dayz/);
    expect(await deps.policies.summary(id)).toBeUndefined();
  });
});
