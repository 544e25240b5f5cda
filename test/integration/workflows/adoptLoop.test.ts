/**
 * `npm start` on one machine (docs/deploys.md): a restart with a new build finds the demo loop pinned
 * to the previous build, whose worker stopped with the previous process. The start makes its build
 * current and moves the loop onto it; the loop carries on there (a replay-compatible change).
 */
import type { Client } from '@temporalio/client';
import pino from 'pino';
import type pg from 'pg';
import { FeedStore } from '../../../db/stores/marketFeeds';
import type { DeploymentVersion } from '../../../processes/buildId';
import { adoptLoopOfStoppedBuild, setCurrentVersion } from '../../../processes/deployment';
import type { RunningWorker } from '../../../processes/worker';
import { statusQuery } from '../../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../../workflows/types';
import { eventually, testClient, testPool, testWorker, uniqueId } from '../../support/env';
import { TEST_ASSETS } from '../../support/harness';

describe('npm start adopting the loop of a stopped build', () => {
  const deploymentName = uniqueId('adopt');
  const first: DeploymentVersion = { deploymentName, buildId: 'first' };
  const second: DeploymentVersion = { deploymentName, buildId: 'second' };
  const taskQueue = uniqueId('adopt');
  const workers: RunningWorker[] = [];
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  beforeAll(async () => {
    pool = testPool();
    temporal = await testClient();
  });
  afterAll(async () => {
    for (const w of workers) await w.shutdown();
    await temporal?.close();
    await pool?.end();
  });

  it('moves the loop pinned to the stopped build onto the new one, where it keeps cycling', async () => {
    const { client } = temporal;
    const firstWorker = await testWorker(taskQueue, { deployment: first });
    workers.push(firstWorker);
    await setCurrentVersion(client, first);
    const portfolioId = uniqueId('adopt');
    await new FeedStore(pool).ensureFeed({ id: portfolioId, seed: 7, assets: TEST_ASSETS, barMs: 500, historyBars: 300 });
    const handle = await client.workflow.start('portfolioLoop', {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs: 500 }],
    });
    const cycles = async () => (await handle.query<LoopStatus>(statusQuery)).cycle;
    await eventually(async () => ((await cycles()) >= 2 ? true : undefined), 30_000, 'two cycles on the first build');

    // The first process stops: its worker goes; the next start brings the second build.
    await firstWorker.shutdown();
    workers.push(await testWorker(taskQueue, { deployment: second }));
    await setCurrentVersion(client, second);
    await adoptLoopOfStoppedBuild(client, handle.workflowId, second, pino({ level: 'silent' }));

    const before = await cycles();
    await eventually(async () => ((await cycles()) > before + 1 ? true : undefined), 30_000, 'cycles on the second build');
    const info = (await handle.describe()).raw.workflowExecutionInfo;
    expect(info?.versioningInfo?.deploymentVersion?.buildId).toBe('second');
    await handle.terminate('adopt test done');
  }, 120_000);
});
