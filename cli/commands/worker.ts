/** `ballast worker`: a Temporal worker serving the control loop's workflows and activities until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { createLogger } from '../../lib/logger';
import { DEFAULT_WORKER_METRICS_PORT, exposeMetrics, processRegistry } from '../../processes/metricsEndpoint';
import { startWorker } from '../../processes/worker';
import { type MetricsFlags, addMetricsOptions, metricsListen } from '../metricsFlags';
import { TASK_QUEUE } from '../../workflows/types';
import { DATABASE_VARIABLES, TEMPORAL_VARIABLES, databaseUrl, environmentHelp, temporalAddress, temporalNamespace } from '../context';

export function define(command: Command): void {
  command
    .description(
      "Run a Temporal worker for Ballast's workflows and activities against a running Temporal server and " +
        'database (production use; `npm start` runs one for you). Stops gracefully on SIGINT or SIGTERM.',
    )
    .option('--task-queue <name>', 'the task queue to poll', TASK_QUEUE)
    .addHelpText(
      'after',
      environmentHelp([
        ...TEMPORAL_VARIABLES,
        ...DATABASE_VARIABLES,
        ['BALLAST_ALERT_WEBHOOK_URL', 'where alerts are posted as JSON (default: none)'],
        ['BALLAST_WORKFLOW_BUNDLE', 'a prebuilt workflow bundle (default: bundle the workflows at start)'],
        ['LOG_LEVEL', 'pino log level of the logs on stderr (default: info)'],
        ['BALLAST_LOG_FORMAT', 'json or pretty (default: pretty on a terminal, JSON otherwise)'],
      ]),
    );
  addMetricsOptions(command, DEFAULT_WORKER_METRICS_PORT).action(async (flags: MetricsFlags & { taskQueue: string }) => {
    const logger = createLogger('ballast-worker');
    const listen = metricsListen(flags);
    const registry = listen ? processRegistry() : undefined;
    const worker = await startWorker({
      temporalAddress: temporalAddress(),
      namespace: temporalNamespace(),
      databaseUrl: databaseUrl(),
      taskQueue: flags.taskQueue,
      logger,
      metrics: registry,
      alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
      workflowBundle: process.env.BALLAST_WORKFLOW_BUNDLE ? { codePath: process.env.BALLAST_WORKFLOW_BUNDLE } : undefined,
    });
    const stop = (): void => void worker.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const metrics = registry && listen ? await exposeMetrics(registry, listen, logger) : undefined;
    process.stderr.write(`[ballast] worker ready${metrics ? `; metrics at ${metrics.url}` : ''}\n`);
    await worker.done;
    await metrics?.close();
  });
}
