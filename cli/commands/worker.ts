/**
 * `ballast worker`: a Temporal worker serving the control loop's workflows and activities until
 * SIGINT/SIGTERM, as one Worker Deployment Version (docs/deploys.md): `--build-id`, or derived from the
 * package version and git commit. `--set-current` makes this build current once it polls (a dev
 * convenience; in production the deploy procedure does it after the new workers are up).
 */
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectionOptions } from '../../infra/temporalConfig';
import { createLogger } from '../../lib/logger';
import { DEFAULT_WORKER_METRICS_PORT, exposeMetrics, processRegistry } from '../../processes/metricsEndpoint';
import { canonicalVersion, resolveDeploymentVersion } from '../../processes/buildId';
import { setCurrentVersion } from '../../processes/deployment';
import { startWorker } from '../../processes/worker';
import { type MetricsFlags, addMetricsOptions, metricsListen } from '../metricsFlags';
import { TASK_QUEUE } from '../../workflows/types';
import { DATABASE_VARIABLES, TEMPORAL_VARIABLES, databaseUrl, environmentHelp, temporalTarget } from '../context';
import { option } from '../flags';
import { connectTemporalClient } from '../../infra/temporalConnection';

interface WorkerFlags extends MetricsFlags {
  readonly taskQueue: string;
  readonly buildId?: string;
  readonly deploymentName?: string;
  readonly versioning: boolean;
  readonly setCurrent: boolean;
}

export function define(command: Command): void {
  command
    .description(
      "Run a Temporal worker for Ballast's workflows and activities against a running Temporal server and " +
        'database (production use; `npm start` runs one for you). Stops gracefully on SIGINT or SIGTERM.',
    )
    .option('--task-queue <name>', 'the task queue to poll', TASK_QUEUE)
    .addOption(option('--build-id <id>', 'the build this worker serves (default: <package version>-<git commit>)').env('BALLAST_BUILD_ID'))
    .addOption(option('--deployment-name <name>', 'the worker deployment (default: ballast)').env('BALLAST_DEPLOYMENT_NAME'))
    .option('--set-current', 'make this build the current version once it polls (dev; see docs/deploys.md)', false)
    .option('--no-versioning', 'an unversioned worker (no worker deployment; not for production)')
    .addHelpText(
      'after',
      environmentHelp([
        ...TEMPORAL_VARIABLES,
        ...DATABASE_VARIABLES,
        ['BALLAST_GIT_COMMIT', 'the commit of a build without a git checkout (derives the build id)'],
        ['BALLAST_ALERT_WEBHOOK_URL', 'where alerts are posted as JSON (default: none)'],
        ['BALLAST_WORKFLOW_BUNDLE', 'a prebuilt workflow bundle (default: bundle the workflows at start)'],
        ['LOG_LEVEL', 'pino log level of the logs on stderr (default: info)'],
        ['BALLAST_LOG_FORMAT', 'json or pretty (default: pretty on a terminal, JSON otherwise)'],
      ]),
    );
  addMetricsOptions(command, DEFAULT_WORKER_METRICS_PORT).action(async (flags: WorkerFlags) => {
    const logger = createLogger('ballast-worker');
    const listen = metricsListen(flags);
    const registry = listen ? processRegistry() : undefined;
    const temporal = temporalTarget();
    const deployment = flags.versioning
      ? resolveDeploymentVersion({ buildId: flags.buildId, deploymentName: flags.deploymentName })
      : undefined;
    const worker = await startWorker({
      temporal,
      databaseUrl: databaseUrl(),
      taskQueue: flags.taskQueue,
      logger,
      metrics: registry,
      alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
      workflowBundle: process.env.BALLAST_WORKFLOW_BUNDLE ? { codePath: process.env.BALLAST_WORKFLOW_BUNDLE } : undefined,
      deployment,
    });
    const stop = (): void => void worker.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (deployment && flags.setCurrent) {
      const connection = await connectTemporalClient(connectionOptions(temporal));
      try {
        await setCurrentVersion(new Client({ connection, namespace: temporal.namespace }), deployment, { logger });
      } finally {
        await connection.close();
      }
    }
    const metrics = registry && listen ? await exposeMetrics(registry, listen, logger) : undefined;
    const version = deployment ? ` (version ${canonicalVersion(deployment)})` : ' (unversioned)';
    process.stderr.write(`[ballast] worker ready${version}${metrics ? `; metrics at ${metrics.url}` : ''}\n`);
    await worker.done;
    await metrics?.close();
  });
}
