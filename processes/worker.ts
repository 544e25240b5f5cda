/**
 * The Ballast Temporal worker's wiring: a pool, the stores over it, the market data service and the
 * activities over those; the workflows in workflows/ from a bundle; the search attributes registered.
 * With `deployment`, the worker serves one Worker Deployment Version (Worker Versioning, docs/deploys.md):
 * it receives only the tasks of workflows pinned to its build, and new ones once its version is current.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createActivities } from '../activities';
import { createPool, verifyDatabase } from '../db/pool';
import { createStores } from '../db/stores';
import { LoopMetricsStore } from '../db/stores/loopMetrics';
import { ensureSearchAttributes } from '../infra/temporal';
import { type TemporalEndpoint, connectionOptions } from '../infra/temporalConfig';
import { MarketDataService } from '../market/source';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { TASK_QUEUE } from '../workflows/types';
import { installTemporalRuntime } from './temporalRuntime';
import { workerMetrics } from './workerMetrics';
import type { DeploymentVersion } from './buildId';

export interface WorkerOptionsInput {
  /** Address, namespace, TLS, API key (infra/temporalConfig.ts). */
  readonly temporal: TemporalEndpoint;
  readonly databaseUrl: string;
  readonly logger: Logger;
  readonly taskQueue?: string;
  readonly alertWebhookUrl?: string;
  /** A prebuilt workflow bundle (tests build it once); otherwise workflows are bundled at start. */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  /** The process's registry (metricsEndpoint.ts): the worker's and the Temporal SDK's metrics go there. */
  readonly metrics?: Registry;
  /** The Worker Deployment Version served (processes/buildId.ts); omitted: an unversioned worker (tests). */
  readonly deployment?: DeploymentVersion;
  /** Worker slot and sticky-cache sizes; the SDK's defaults when omitted (bench/capacity.bench.ts measures them). */
  readonly tuning?: WorkerTuning;
}

export type WorkerTuning = Partial<
  Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions'>
>;

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(opts: WorkerOptionsInput): Promise<RunningWorker> {
  installTemporalRuntime(opts.logger, opts.metrics);
  const { namespace } = opts.temporal;
  const pool = createPool(opts.databaseUrl);
  // A worker that cannot use its database must not join the task queue: it would fail every activity it picks up.
  try {
    await verifyDatabase(pool, opts.databaseUrl);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  await ensureSearchAttributes(connectionOptions(opts.temporal), namespace, SEARCH_ATTRIBUTES, opts.logger);
  const connection = await NativeConnection.connect(connectionOptions(opts.temporal));
  const stores = createStores(pool);
  const market = new MarketDataService(stores.feeds, Date.now, stores.closes);
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ stores, market, logger: opts.logger, alertWebhookUrl: opts.alertWebhookUrl }),
    shutdownGraceTime: '10 seconds',
    ...opts.tuning,
    interceptors: opts.metrics ? { activity: [workerMetrics(opts.metrics, new LoopMetricsStore(pool)).cycleTimer] } : undefined,
    ...(opts.deployment
      ? {
          workerDeploymentOptions: {
            version: opts.deployment,
            useWorkerVersioning: true,
            // Each workflow type states its own behaviour (workflows/versioning.ts); this covers any that does not.
            defaultVersioningBehavior: 'PINNED',
          },
        }
      : {}),
  });
  const done = worker.run().finally(async () => {
    await pool.end().catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  opts.logger.info({ taskQueue: opts.taskQueue ?? TASK_QUEUE, namespace, deployment: opts.deployment }, 'worker started');
  return {
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
