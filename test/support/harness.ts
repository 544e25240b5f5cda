/**
 * The common setup of the control-loop integration tests: a pool, a Temporal client and a worker on a
 * private task queue (registered as beforeAll/afterAll), and a way to start a loop on a fresh
 * synthetic feed.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type pg from 'pg';
import { BudgetStore } from '../../db/stores/budgets';
import { type CreateFeedOptions, FeedStore } from '../../db/stores/marketFeeds';
import { portfolioLoop } from '../../workflows';
import { type PortfolioLoopInput, loopWorkflowId } from '../../workflows/types';
import type { RunningWorker } from '../../processes/worker';
import { testClient, testPool, testWorker, uniqueId } from './env';

export const TEST_ASSETS = ['EQ_US', 'EQ_EU', 'EQ_JP', 'BOND', 'GOLD'];

export interface LoopHarness {
  readonly taskQueue: string;
  pool: pg.Pool;
  client: Client;
  store: BudgetStore;
  feeds: FeedStore;
  /** Creates a feed named after a new portfolio and starts that portfolio's loop on it. */
  startLoop(opts: {
    prefix: string;
    seed: number;
    feed?: Partial<Omit<CreateFeedOptions, 'id' | 'seed'>>;
    input?: Partial<Omit<PortfolioLoopInput, 'portfolioId'>>;
  }): Promise<{ portfolioId: string; handle: WorkflowHandle }>;
}

export function useLoopHarness(name: string, workerOptions: () => Parameters<typeof testWorker>[1] = () => ({})): LoopHarness {
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  const h = { taskQueue: uniqueId(name) } as LoopHarness;

  beforeAll(async () => {
    h.pool = testPool();
    temporal = await testClient();
    h.client = temporal.client;
    h.store = new BudgetStore(h.pool);
    h.feeds = new FeedStore(h.pool);
    worker = await testWorker(h.taskQueue, workerOptions());
  });
  afterAll(async () => {
    await worker?.shutdown();
    await temporal?.close();
    await h.pool?.end();
  });

  h.startLoop = async ({ prefix, seed, feed, input }) => {
    const portfolioId = uniqueId(prefix);
    await h.feeds.ensureFeed({ id: portfolioId, seed, assets: TEST_ASSETS, barMs: 500, historyBars: 300, ...feed });
    const handle = await h.client.workflow.start(portfolioLoop, {
      taskQueue: h.taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs: 1000, ...input }],
    });
    return { portfolioId, handle };
  };
  return h;
}
