/**
 * Data in to orders out, every part real: a portfolio created from a YAML file (synthetic feed) runs
 * its loop on the real Temporal server; each budget it commits goes out through the gate's plan stream
 * to the reference OMS, which executes it through SizePosition, EvaluateTrade and ReportFill. After the
 * first plan and again after a crisis (a tighter budget, committed without approval), gross exposure is
 * within 2 % of the budget's target, or the OMS reports the residual the gate trimmed.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { BudgetStore } from '../../../db/stores/budgets';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { PortfolioPolicyStore } from '../../../db/stores/portfolioPolicies';
import type { RunningGate } from '../../../grpc/server';
import { startGate } from '../../../processes/gate';
import { createPortfolio } from '../../../processes/portfolios';
import { type PlanReport, type ReferenceOms, startReferenceOms } from '../../../processes/referenceOms';
import type { RunningWorker } from '../../../processes/worker';
import { loadPortfolioSpecText } from '../../../risk/portfolioSpec';
import { loopWorkflowId } from '../../../workflows/types';
import { eventually, testClient, testEnv, testLogger, testPool, testWorker, uniqueId } from '../../support/env';
import { TEST_ASSETS } from '../../support/harness';

describe('a portfolio from YAML, its plans executed by the reference OMS', () => {
  const taskQueue = uniqueId('e2e');
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  let gate: RunningGate;
  let oms: ReferenceOms | undefined;

  beforeAll(async () => {
    pool = testPool();
    temporal = await testClient();
    worker = await testWorker(taskQueue);
    gate = await startGate({ databaseUrl: testEnv().databaseUrl, port: 0, logger: testLogger });
  });
  afterAll(async () => {
    await oms?.stop();
    await gate?.close();
    await worker?.shutdown();
    await temporal?.close();
    await pool?.end();
  });

  const within2PercentOrTrimmed = (r: PlanReport): void => {
    expect(r.outcome).not.toBe('SKIPPED');
    if (r.drift > 0.02) expect(r.trimmedNotional).toBeGreaterThan(0);
  };

  it('brings gross exposure to each committed budget, through a crisis', async () => {
    const id = uniqueId('e2e');
    const feeds = new FeedStore(pool);
    await feeds.ensureFeed({ id, seed: 5, assets: TEST_ASSETS, barMs: 500, historyBars: 300 });
    const spec = loadPortfolioSpecText(`
portfolio: { id: ${id}, market_data: { kind: synthetic, feed: ${id} } }
risk_budgeting: { capital: 1000000 }
`);
    await createPortfolio({ client: temporal.client, policies: new PortfolioPolicyStore(pool), taskQueue }, spec, {
      requestedBy: 'test',
      source: null,
      monitoringIntervalMs: 500,
    });
    oms = startReferenceOms({ gateAddress: gate.address, portfolioId: id });
    const budgets = new BudgetStore(pool);
    const first = await eventually(() => budgets.latestBudget(id), 30_000, 'a first budget');
    const firstReport = await eventually(
      async () => oms!.reports.find((r) => r.budgetVersion === first.version),
      30_000,
      'the first plan executed',
    );
    within2PercentOrTrimmed(firstReport);
    expect(firstReport.targetGross).toBeGreaterThan(0);

    await feeds.setRegime(id, 'crisis');
    const crisis = await eventually(
      async () => {
        const latest = await budgets.latestBudget(id);
        return latest && latest.version > first.version && latest.budget.regime === 'crisis' ? latest : undefined;
      },
      60_000,
      'a crisis budget',
    );
    const crisisReport = await eventually(
      async () => oms!.reports.find((r) => r.budgetVersion >= crisis.version && r.outcome !== 'SKIPPED'),
      30_000,
      'the crisis plan executed',
    );
    within2PercentOrTrimmed(crisisReport);
    expect(crisisReport.targetGross).toBeLessThan(firstReport.targetGross);
    if (process.env.BALLAST_PRINT_OMS) process.stderr.write(`${JSON.stringify([firstReport, crisisReport])}\n`);
    await temporal.client.workflow.getHandle(loopWorkflowId(id)).terminate('test done');
  }, 120_000);
});
