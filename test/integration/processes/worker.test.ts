/**
 * A worker given a database it cannot use refuses to start, with one sentence on stderr and exit code
 * 1, and never polls its task queue (it would fail every activity it picked up).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../../lib/paths';
import { testClient, testEnv } from '../../support/env';

function runWorker(databaseUrl: string, taskQueue: string): Promise<{ code: number | null; stderr: string }> {
  const { temporalAddress, bundlePath } = testEnv();
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'ballast.js'), 'worker', '--task-queue', taskQueue], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      BALLAST_WORKFLOW_BUNDLE: bundlePath,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

async function pollers(taskQueue: string): Promise<number> {
  const t = await testClient();
  try {
    const r = await t.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    return r.pollers?.length ?? 0;
  } finally {
    await t.close();
  }
}

const base = (): URL => new URL(testEnv().databaseUrl);

test.each([
  [
    'a database that does not exist',
    (u: URL) => ((u.pathname = `/ballast_missing_${process.pid}`), u),
    /cannot use the database at .*check DATABASE_URL/,
  ],
  ['a server that is not there', (u: URL) => ((u.port = '1'), u), /cannot use the database at .*check DATABASE_URL/],
  ['a database without the Ballast schema', (u: URL) => ((u.pathname = '/postgres'), u), /has no Ballast schema/],
])(
  '%s: the worker refuses to start and never polls',
  async (_name, wrong, message) => {
    const taskQueue = `wrong-db-${process.pid}-${Date.now()}`;
    const { code, stderr } = await runWorker(wrong(base()).toString(), taskQueue);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/worker ready/);
    expect(await pollers(taskQueue)).toBe(0);
  },
  60_000,
);
