/**
 * The README's manual-rebalance recipe, run exactly as written (the `sh` block after "A manual
 * rebalance computes a fresh budget"), with the `temporal` CLI pointed at the test server through its
 * own environment variables: a second start for the same portfolio while the first runs is refused
 * (non-zero exit), not silently answered with the running one.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureTemporalCli } from '../../../infra/temporal';
import { manualRebalanceWorkflowId } from '../../../workflows/types';
import { testClient, testEnv, testLogger } from '../../support/env';

const README = join(__dirname, '..', '..', '..', 'README.md');

/** The shell block that follows the sentence introducing the recipe. */
function recipe(): string {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf('A manual rebalance computes a fresh budget');
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  if (at < 0 || !block) throw new Error('the manual-rebalance recipe is missing from the README');
  return block[1];
}

describe("the README's manual-rebalance recipe", () => {
  it('starts one rebalance and refuses a second for the same portfolio while it runs', async () => {
    const cli = await ensureTemporalCli(testLogger);
    const env = { ...process.env, PATH: `${dirname(cli)}:${process.env.PATH}`, TEMPORAL_ADDRESS: testEnv().temporalAddress };
    const run = () => spawnSync('sh', ['-c', recipe()], { env, encoding: 'utf8' });
    const { client, close } = await testClient();
    const workflowId = manualRebalanceWorkflowId('demo');
    try {
      const first = run();
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const second = run();
      expect(second.status).not.toBe(0);
      expect(second.stderr).toMatch(/already running/i);
      // Still one execution: the first requester's.
      const { executions } = await client.workflowService.listWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowId = '${workflowId}'`,
      });
      expect(executions).toHaveLength(1);
    } finally {
      await client.workflow
        .getHandle(workflowId)
        .terminate('recipe test done')
        .catch(() => undefined);
      await close();
    }
  }, 60_000);
});
