/**
 * The foundation slice end to end, on the real Temporal server and Postgres: the loop commits a
 * budget, the gate enforces it, a crisis tightens it, and a worker crash loses and duplicates nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { BudgetStore } from '../../db/stores/budgets';
import {
  Decision,
  type EvaluateTradeResponse,
  GateServiceClient,
  type Order,
  ReasonCode,
  Side,
} from '../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../grpc/server';
import { FeedStore } from '../../db/stores/marketFeeds';
import { startGate } from '../../processes/gate';
import type { BudgetVersion } from '../../risk/budget';
import { portfolioLoop } from '../../workflows';
import { statusQuery } from '../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../workflows/types';
import type { RunningWorker } from '../../processes/worker';
import { eventually, testClient, testEnv, testLogger, testPool, testWorker, uniqueId } from '../support/env';

const ASSETS = ['EQ_US', 'EQ_EU', 'EQ_JP', 'BOND', 'GOLD'];
const ROOT = join(__dirname, '..', '..');

describe('foundation slice', () => {
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let store: BudgetStore;
  let feeds: FeedStore;

  beforeAll(async () => {
    pool = testPool();
    temporal = await testClient();
    store = new BudgetStore(pool);
    feeds = new FeedStore(pool);
  });
  afterAll(async () => {
    await temporal?.close();
    await pool?.end();
  });

  const startLoop = (portfolioId: string, taskQueue: string, monitoringIntervalMs = 1000, config?: unknown) =>
    temporal.client.workflow.start(portfolioLoop, {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs, config }],
    });

  const crisisBudget = (portfolioId: string) =>
    eventually(
      async () => {
        const latest = await store.latestBudget(portfolioId);
        return latest?.budget.regime === 'crisis' ? latest : undefined;
      },
      60_000,
      'a crisis budget',
    );

  describe('gate enforces the committed budget', () => {
    let worker: RunningWorker;
    let gate: RunningGate;
    let client: GateServiceClient;
    const taskQueue = uniqueId('gate-e2e');

    beforeAll(async () => {
      worker = await testWorker(taskQueue);
      gate = await startGate({
        databaseUrl: testEnv().databaseUrl,
        host: '127.0.0.1',
        port: 0,
        logger: testLogger,
        pollIntervalMs: 60_000,
        dataDir: mkdtempSync(join(tmpdir(), 'ballast-gate-')),
      });
      client = new GateServiceClient(gate.address, grpc.credentials.createInsecure());
    });
    afterAll(async () => {
      client?.close();
      await gate?.close();
      await worker?.shutdown();
    });

    const evaluate = (order: Order) =>
      new Promise<EvaluateTradeResponse>((resolve, reject) =>
        client.evaluateTrade({ order }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    const cancel = (order: Order) =>
      new Promise<void>((resolve, reject) =>
        client.reportFill(
          {
            portfolioId: order.portfolioId,
            strategy: order.strategy,
            instrument: order.instrument,
            side: order.side,
            clientOrderId: order.clientOrderId,
            fillId: `${order.clientOrderId}-cancel`,
            quantity: 0,
            price: order.price,
            orderDone: true,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    const gateVersion = (portfolioId: string, version: number) =>
      eventually(
        () =>
          new Promise<number | undefined>((resolve) =>
            client.getCurrentBudget({ portfolioId }, (err, res) =>
              resolve(!err && res && res.budgetVersion >= version ? res.budgetVersion : undefined),
            ),
          ),
        10_000,
        `the gate to serve version ${version}`,
      );
    const orderFor = (v: BudgetVersion, asset: string, shareOfLimit: number, id: string): Order => {
      const a = v.budget.assets.find((x) => x.asset === asset)!;
      return {
        portfolioId: v.portfolioId,
        strategy: a.strategy,
        instrument: a.asset,
        side: Side.SIDE_BUY,
        quantity: Math.floor((a.maxPositionNotional * shareOfLimit) / a.referencePrice),
        price: a.referencePrice,
        clientOrderId: id,
      };
    };

    it('denies everything before a budget exists (fail closed)', async () => {
      const res = await evaluate({
        portfolioId: uniqueId('nobudget'),
        strategy: 'core',
        instrument: 'EQ_US',
        side: Side.SIDE_BUY,
        quantity: 1,
        price: 100,
        clientOrderId: 'x1',
      });
      expect(res.decision).toBe(Decision.DECISION_DENY);
      expect(res.reasons.some((r) => r === ReasonCode.REASON_CODE_UNKNOWN_PORTFOLIO || r === ReasonCode.REASON_CODE_NO_BUDGET)).toBe(true);
    });

    it('approves within the limit, denies above it, and denies the same trade once a crisis tightens the budget', async () => {
      const portfolioId = uniqueId('gate');
      await feeds.ensureFeed({ id: portfolioId, seed: 11, assets: ASSETS, barMs: 500, historyBars: 300 });
      // Orders up to half the capital, so the position limit (not the order-size limit) is what binds.
      const handle = await startLoop(portfolioId, taskQueue, 1000, { risk_budgeting: { gate: { max_order_share: 0.5 } } });
      const calm = await eventually(async () => store.latestBudget(portfolioId), 30_000, 'the first budget');
      await gateVersion(portfolioId, calm.version);

      const within = orderFor(calm, 'EQ_US', 0.6, 'within-1');
      const approved = await evaluate(within);
      expect(approved.detail).toBe('');
      expect(approved.decision).toBe(Decision.DECISION_APPROVE);
      expect(approved.budgetVersion).toBe(calm.version);
      await cancel(within); // release the reservation so the later comparison is about limits only

      const above = orderFor(calm, 'EQ_US', 1.2, 'above-1');
      const denied = await evaluate(above);
      expect(denied.decision).toBe(Decision.DECISION_DENY);
      expect(denied.reasons).toContain(ReasonCode.REASON_CODE_POSITION_LIMIT);

      await feeds.setRegime(portfolioId, 'crisis');
      const crisis = await crisisBudget(portfolioId);
      expect(crisis.budget.limits.maxGrossNotional).toBeLessThan(calm.budget.limits.maxGrossNotional);
      await gateVersion(portfolioId, crisis.version);
      // The same quantity, priced at the new reference (the old price would trip the price collar).
      const crisisPrice = crisis.budget.assets.find((a) => a.asset === 'EQ_US')!.referencePrice;
      const again = await evaluate({ ...within, price: crisisPrice, clientOrderId: 'within-2' });
      expect(again.decision).toBe(Decision.DECISION_DENY);
      expect(again.budgetVersion).toBe(crisis.version);
      expect(again.reasons).toContain(ReasonCode.REASON_CODE_POSITION_LIMIT);
      await handle.terminate('test done');
    }, 120_000);
  });

  describe('worker crash', () => {
    const children: ChildProcess[] = [];
    afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

    const spawnWorker = (taskQueue: string, env: Record<string, string> = {}) => {
      const { databaseUrl, temporalAddress, bundlePath } = testEnv();
      // Unversioned: this is about crashes, and a versioned worker would wait for its build to be made current.
      const args = [join(ROOT, 'bin', 'ballast.js'), 'worker', '--task-queue', taskQueue, '--no-versioning'];
      const child = spawn(process.execPath, args, {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          TEMPORAL_ADDRESS: temporalAddress,
          BALLAST_WORKFLOW_BUNDLE: bundlePath,
          LOG_LEVEL: 'warn',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return new Promise<ChildProcess>((resolve) => setTimeout(() => resolve(child), 200));
    };
    const exited = (child: ChildProcess) =>
      new Promise<void>((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
      );

    it('resumes where it was after a worker is killed right after a commit, without duplicate versions', async () => {
      const portfolioId = uniqueId('crash');
      const taskQueue = uniqueId('crash-q');
      await feeds.ensureFeed({ id: portfolioId, seed: 5, assets: ASSETS, barMs: 500, historyBars: 300 });
      // Worker A dies the instant it commits the first budget, before Temporal hears the activity completed.
      const a = await spawnWorker(taskQueue, { BALLAST_FAULT_CRASH_AFTER_COMMITS: '1' });
      const handle = await startLoop(portfolioId, taskQueue, 500);
      await exited(a);
      expect(a.signalCode).toBe('SIGKILL');
      expect(await store.countVersions(portfolioId)).toBe(1);

      await feeds.setRegime(portfolioId, 'crisis');
      await spawnWorker(taskQueue);
      const crisis = await crisisBudget(portfolioId);
      const status = await handle.query<LoopStatus>(statusQuery);
      expect(status.budgetVersion).toBeGreaterThanOrEqual(crisis.version);

      // The retried commit of the first budget returned version 1 instead of creating another:
      // versions are dense, and each committed recommendation owns exactly one version.
      const { rows: versions } = await pool.query<{ version: number; idempotency_key: string }>(
        'SELECT version, idempotency_key FROM budget_versions WHERE portfolio_id = $1 ORDER BY version',
        [portfolioId],
      );
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
      expect(versions[0].idempotency_key).toMatch(new RegExp(`^rec:${portfolioId}-[0-9a-f-]{8}-c1$`));
      const { rows: committed } = await pool.query<{ id: string; committed_version: number }>(
        "SELECT id, committed_version FROM recommendations WHERE portfolio_id = $1 AND status = 'COMMITTED' ORDER BY committed_version",
        [portfolioId],
      );
      expect(committed.map((r) => r.committed_version)).toEqual(versions.map((v) => v.version));
      expect(new Set(committed.map((r) => r.id)).size).toBe(committed.length);
      await handle.terminate('test done');
    }, 120_000);
  });
});
