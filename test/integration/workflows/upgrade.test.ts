/**
 * A deploy that does not break running loops (docs/deploys.md): loops run on build A with history;
 * build B, whose loop code does not replay A's histories, is deployed as a new worker deployment
 * version and made current. Every loop finishes its run on A and continues-as-new onto B; no workflow
 * task fails anywhere. Then A is made current again (a rollback) and every loop moves back the same way.
 *
 * Needs a server with upgrade on continue-as-new (the target-version flag and the continue-as-new
 * initial behaviour: Temporal server 1.32, deploy/temporal-server); the `temporal` CLI's dev server
 * (1.29.1) has neither, so this runs under `npm run test:full-server` and is skipped by the dev-server run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type pg from 'pg';
import { FeedStore } from '../../../db/stores/marketFeeds';
import type { DeploymentVersion } from '../../../processes/buildId';
import { setCurrentVersion } from '../../../processes/deployment';
import type { RunningWorker } from '../../../processes/worker';
import { statusQuery } from '../../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../../workflows/types';
import { eventually, testClient, testLogger, testPool, testWorker, uniqueId } from '../../support/env';
import { TEST_ASSETS } from '../../support/harness';

const { EventType, VersioningBehavior } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const describeOnFullServer = process.env.BALLAST_TEST_TEMPORAL_SERVER ? describe : describe.skip;
const LOOPS = 3;

describeOnFullServer('deploying a build whose loop code does not replay', () => {
  const taskQueue = uniqueId('upgrade');
  const deploymentName = uniqueId('ballast-upgrade');
  const A: DeploymentVersion = { deploymentName, buildId: 'build-a' };
  const B: DeploymentVersion = { deploymentName, buildId: 'build-b' };
  let pool: pg.Pool;
  let temporalClient: { client: Client; close(): Promise<void> };
  let bundleB: string;
  const workers: RunningWorker[] = [];
  const loops: WorkflowHandle[] = [];

  beforeAll(async () => {
    pool = testPool();
    temporalClient = await testClient();
    const code = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../fixtures/workflows/incompatibleBuild'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const dir = join(__dirname, '..', '..', '..', '.data', 'test');
    mkdirSync(dir, { recursive: true });
    bundleB = join(dir, `build-b-bundle-${process.pid}.js`);
    writeFileSync(bundleB, code.code);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(loops.map((h) => h.terminate('upgrade test done').catch(() => undefined)));
    for (const w of workers) await w.shutdown();
    await temporalClient?.close();
    await pool?.end();
  });

  const client = () => temporalClient.client;

  /** The run a loop is on now, the build that completed its last workflow task, and its behaviour. */
  async function currentRun(handle: WorkflowHandle) {
    const info = (await client().workflow.getHandle(handle.workflowId).describe()).raw.workflowExecutionInfo;
    return {
      runId: info?.execution?.runId as string,
      buildId: info?.versioningInfo?.deploymentVersion?.buildId ?? null,
      pinned: info?.versioningInfo?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    };
  }

  const runHistory = async (workflowId: string, runId: string): Promise<HistoryEvent[]> =>
    (await client().workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const buildsOf = (events: HistoryEvent[]) =>
    new Set(
      events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? 'unversioned'),
    );
  const failedTasks = (events: HistoryEvent[]) => events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  /** B's change: its runs schedule a timer before their first activity. */
  const startsWithTimer = (events: HistoryEvent[]) => {
    const first = events.find(
      (e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED || e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    );
    return first?.eventType === EventType.EVENT_TYPE_TIMER_STARTED;
  };

  /** Waits until every loop runs a new run completed by `to`, and checks the run it left. */
  async function expectEveryLoopMoved(from: DeploymentVersion, to: DeploymentVersion, leftRuns: string[]): Promise<string[]> {
    const started = Date.now();
    const newRuns: string[] = [];
    for (const [i, handle] of loops.entries()) {
      const run = await eventually(
        async () => {
          const r = await currentRun(handle);
          return r.runId !== leftRuns[i] && r.buildId === to.buildId ? r : undefined;
        },
        60_000,
        `loop ${handle.workflowId} on ${to.buildId}`,
      );
      expect(run.pinned).toBe(true);
      const left = await runHistory(handle.workflowId, leftRuns[i]);
      expect(failedTasks(left)).toEqual([]);
      expect([...buildsOf(left)]).toEqual([from.buildId]);
      expect(left[left.length - 1].eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
      newRuns.push(run.runId);
    }
    testLogger.info({ from: from.buildId, to: to.buildId, seconds: (Date.now() - started) / 1000 }, 'every loop moved');
    return newRuns;
  }

  it('keeps every loop running through the deploy and the rollback, each moving at its continue-as-new', async () => {
    workers.push(await testWorker(taskQueue, { deployment: A }));
    await setCurrentVersion(client(), A);

    const feeds = new FeedStore(pool);
    for (let i = 0; i < LOOPS; i++) {
      const portfolioId = uniqueId('upgrade');
      await feeds.ensureFeed({ id: portfolioId, seed: 50 + i, assets: TEST_ASSETS, barMs: 500, historyBars: 300 });
      loops.push(
        await client().workflow.start('portfolioLoop', {
          taskQueue,
          workflowId: loopWorkflowId(portfolioId),
          args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs: 500, cyclesPerRun: 10_000 }],
        }),
      );
    }
    // History on A: a few cycles each, the first budget committed.
    const cycles = async (h: WorkflowHandle) => (await h.query<LoopStatus>(statusQuery)).cycle;
    for (const h of loops) await eventually(async () => ((await cycles(h)) >= 3 ? true : undefined), 60_000, 'three cycles on A');
    const runsOnA = await Promise.all(loops.map(async (h) => (await currentRun(h)).runId));

    // Build B could not replay them: a non-replay-compatible change.
    const historyOnA = await client().workflow.getHandle(loops[0].workflowId).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: bundleB } }, historyOnA)).rejects.toMatchObject({
      name: 'DeterminismViolationError',
    });

    // Deploy B: its workers start, it becomes current; A's workers stay up for the runs pinned to A.
    workers.push(await testWorker(taskQueue, { deployment: B, bundlePath: bundleB }));
    const cyclesBefore = await Promise.all(loops.map(cycles));
    await setCurrentVersion(client(), B);
    const runsOnB = await expectEveryLoopMoved(A, B, runsOnA);
    for (const [i, h] of loops.entries()) {
      const events = await runHistory(h.workflowId, runsOnB[i]);
      expect(startsWithTimer(events)).toBe(true); // B's code runs the new run
      // The state came along: cycles count on from where A left them.
      await eventually(async () => ((await cycles(h)) > cyclesBefore[i] + 2 ? true : undefined), 30_000, 'cycles continuing on B');
      expect((await currentRun(h)).runId).toBe(runsOnB[i]); // one move, not a continue-as-new every cycle
    }

    // Roll back: A is current again; every loop leaves B the same way, at its continue-as-new.
    await setCurrentVersion(client(), A);
    const runsBackOnA = await expectEveryLoopMoved(B, A, runsOnB);
    for (const [i, h] of loops.entries()) {
      const events = await runHistory(h.workflowId, runsBackOnA[i]);
      expect(startsWithTimer(events)).toBe(false);
      expect(failedTasks(events)).toEqual([]);
      const status = await h.query<LoopStatus>(statusQuery);
      expect(status.lastError).toBeNull();
    }
  }, 300_000);
});
