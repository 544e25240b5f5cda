/** `ballast worker`: a Temporal worker serving the control loop's workflows and activities until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { createLogger } from '../../lib/logger';
import { startWorker } from '../../processes/worker';
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
        ['LOG_LEVEL', 'pino log level of the JSON logs on stderr (default: info)'],
      ]),
    )
    .action(async ({ taskQueue }: { taskQueue: string }) => {
      const worker = await startWorker({
        temporalAddress: temporalAddress(),
        namespace: temporalNamespace(),
        databaseUrl: databaseUrl(),
        taskQueue,
        logger: createLogger('ballast-worker'),
        alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
        workflowBundle: process.env.BALLAST_WORKFLOW_BUNDLE ? { codePath: process.env.BALLAST_WORKFLOW_BUNDLE } : undefined,
      });
      const stop = (): void => void worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stderr.write('[ballast] worker ready\n');
      await worker.done;
    });
}
