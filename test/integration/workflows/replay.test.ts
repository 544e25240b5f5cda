/**
 * Determinism guard: recorded workflow histories are replayed through the current workflow code.
 * A change that would make an existing execution diverge (a new activity call in the middle, a
 * reordered command) fails here instead of in production. Fixtures live in test/fixtures/histories;
 * run with BALLAST_RECORD_HISTORIES=1 to (re)record them from the scenario below.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { ensureTemporalCli } from '../../../infra/temporal';
import { approveUpdate, statusQuery } from '../../../workflows/messages';
import type { LoopStatus } from '../../../workflows/types';
import { eventually, testEnv } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'histories');

describe('workflow replay', () => {
  const h = useLoopHarness('replay');
  const bundle = () => ({ workflowBundle: { code: readFileSync(testEnv().bundlePath, 'utf8') } });

  /** A loop that asks for approval, is approved, sees a crisis and de-risks, then is terminated. */
  async function scenario(): Promise<WorkflowHandle> {
    const { portfolioId, handle } = await h.startLoop({
      prefix: 'replay',
      seed: 21,
      feed: { assets: ['A', 'B', 'C'] },
      input: { monitoringIntervalMs: 500, autoApproveInitialBudget: false },
    });
    const pending = await eventually(
      async () => (await handle.query<LoopStatus>(statusQuery)).pendingRecommendation ?? undefined,
      30_000,
      'a pending recommendation',
    );
    await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'replay', reason: 'fixture' }] });
    await h.feeds.setRegime(portfolioId, 'crisis');
    await eventually(
      async () => ((await handle.query<LoopStatus>(statusQuery)).regime === 'crisis' ? true : undefined),
      30_000,
      'the crisis regime',
    );
    await handle.terminate('scenario complete');
    return handle;
  }

  /** Fixtures are written by the temporal CLI (`workflow show --output json`), the standard export. */
  async function recordFixture(workflowId: string, file: string): Promise<void> {
    const cli = await ensureTemporalCli(pino({ level: 'silent' }));
    const shown = spawnSync(
      cli,
      ['workflow', 'show', '--address', testEnv().temporalAddress, '--workflow-id', workflowId, '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
    writeFileSync(join(FIXTURES, file), shown.stdout);
  }

  it('replays a fresh history of the loop (approval, crisis) through the current code', async () => {
    const handle = await scenario();
    const history = await handle.fetchHistory();
    if (process.env.BALLAST_RECORD_HISTORIES) await recordFixture(handle.workflowId, 'portfolio-loop-approval-crisis.json');
    await expect(Worker.runReplayHistory(bundle(), history, handle.workflowId)).resolves.toBeUndefined();
  }, 120_000);

  it('replays every recorded fixture history through the current code', () => {
    // In a plain Node process: the JSON decoder's protobuf types do not survive jest's module sandbox.
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(FIXTURES, f));
    expect(files.length).toBeGreaterThan(0);
    const script = join(__dirname, '..', '..', '..', 'dist', 'test', 'support', 'replayHistories.js');
    const run = spawnSync(process.execPath, [script, testEnv().bundlePath, ...files], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(files.length);
  }, 60_000);
});
