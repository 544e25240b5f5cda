/**
 * The Ballast Temporal worker's wiring: a pool, the stores over it, the market data service and the
 * activities over those; the workflows in workflows/ from a bundle; the search attributes registered.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createPool } from '../db/pool';
import { createStores } from '../db/stores';
import { ensureSearchAttributes } from '../infra/temporal';
import { MarketDataService } from '../market/source';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { TASK_QUEUE } from '../workflows/types';

export interface WorkerOptionsInput {
  readonly temporalAddress: string;
  readonly namespace?: string;
  readonly databaseUrl: string;
  readonly logger: Logger;
  readonly taskQueue?: string;
  readonly alertWebhookUrl?: string;
  /** A prebuilt workflow bundle (tests build it once); otherwise workflows are bundled at start. */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
}

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/** Quiet the Rust core's logs: Temporal's own warnings still reach stderr. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    });
  } catch {
    // already installed by the embedding process
  }
}

export async function startWorker(opts: WorkerOptionsInput): Promise<RunningWorker> {
  installRuntime();
  const namespace = opts.namespace ?? 'default';
  await ensureSearchAttributes(opts.temporalAddress, namespace, SEARCH_ATTRIBUTES, opts.logger);
  const connection = await NativeConnection.connect({ address: opts.temporalAddress });
  const pool = createPool(opts.databaseUrl);
  const stores = createStores(pool);
  const market = new MarketDataService(stores.feeds, Date.now, stores.closes);
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ stores, market, logger: opts.logger, alertWebhookUrl: opts.alertWebhookUrl }),
    shutdownGraceTime: '10 seconds',
  });
  const done = worker.run().finally(async () => {
    await pool.end().catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  opts.logger.info({ taskQueue: opts.taskQueue ?? TASK_QUEUE, namespace }, 'worker started');
  return {
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
