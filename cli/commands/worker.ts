/** `ballast worker`: run a Temporal worker against TEMPORAL_ADDRESS and DATABASE_URL (production use). */
import { DEFAULT_DATABASE_URL } from '../../db/pool';
import { createLogger } from '../../lib/logger';
import { startWorker } from '../../processes/worker';
import { parseFlags } from '../args';

export const summary = 'run a Temporal worker (TEMPORAL_ADDRESS, DATABASE_URL, --task-queue)';

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { 'task-queue': 'string' });
  const logger = createLogger('ballast-worker');
  const worker = await startWorker({
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE,
    databaseUrl: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    taskQueue: flags['task-queue'],
    logger,
    alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
    workflowBundle: process.env.BALLAST_WORKFLOW_BUNDLE ? { codePath: process.env.BALLAST_WORKFLOW_BUNDLE } : undefined,
  });
  const stop = () => void worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write('[ballast] worker ready\n');
  await worker.done;
  return 0;
}
