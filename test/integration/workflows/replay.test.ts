/**
 * Determinism guard: the replay corpus (test/fixtures/histories/<release>/, listed in corpus.json) is
 * replayed through the current workflow code. A change that would make an execution of a release
 * diverge (a new activity call in the middle, a reordered command) fails here instead of in
 * production, unless it is versioned (docs/deploys.md): patched(), or a release retired from replay
 * because its pinned runs never reach this code. The corpus is append-only: its files are checked
 * against their digests. `BALLAST_RECORD_HISTORIES=1` records the scenario below, run on a versioned
 * worker as in production, into the current release's folder (package.json's version): the approval and
 * crisis scenario and (from 0.2.0) a loop's calm cycles.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { ensureTemporalCli } from '../../../infra/temporal';
import { approveUpdate, statusQuery } from '../../../workflows/messages';
import type { LoopStatus } from '../../../workflows/types';
import { PortfolioPolicyStore, type PolicyVersion } from '../../../db/stores/portfolioPolicies';
import { setCurrentVersion } from '../../../processes/deployment';
import { loopInput } from '../../../processes/portfolios';
import { portfolioLoop } from '../../../workflows';
import { loopWorkflowId } from '../../../workflows/types';
import { addHistory, digest, filesOnDisk, historiesToReplay, readManifest, CORPUS_DIR } from '../../support/historyCorpus';
import { eventually, testEnv, uniqueId } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

const RELEASE = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('workflow replay', () => {
  // A versioned worker, as in production: its histories carry the build and the pinned behaviour.
  const deployment = { deploymentName: uniqueId('replay'), buildId: `${RELEASE}-replay` };
  const h = useLoopHarness('replay', () => ({ deployment }));
  const bundle = () => ({ workflowBundle: { code: readFileSync(testEnv().bundlePath, 'utf8') } });

  /** A loop that asks for approval, is approved, sees a crisis and de-risks, then is terminated. */
  async function scenario(): Promise<WorkflowHandle> {
    await setCurrentVersion(h.client, deployment);
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

  /**
   * A portfolio created as `ballast portfolio create` does (its loop runs policy version 1, by
   * reference) whose cycles are calm, then terminated. Its empty book would always drift from the
   * budget: the raised drift threshold keeps it calm, as a traded book's would be.
   */
  async function calmScenario(): Promise<WorkflowHandle> {
    await setCurrentVersion(h.client, deployment);
    const policies = new PortfolioPolicyStore(h.pool);
    const portfolioId = uniqueId('replay-calm');
    const marketData = { kind: 'synthetic', feedId: portfolioId } as const;
    await h.feeds.ensureFeed({ id: portfolioId, seed: 22, assets: ['A', 'B', 'C'], barMs: 500, historyBars: 300 });
    const document = { risk_budgeting: { rebalancing_triggers: { drift_threshold: 1 } } };
    await policies.create({ id: portfolioId, baseCurrency: 'USD', marketData, document, requestedBy: 'replay', source: null });
    const policy = await policies.active(portfolioId);
    const handle = await h.client.workflow.start(portfolioLoop, {
      taskQueue: h.taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [loopInput(portfolioId, marketData, policy as PolicyVersion, { monitoringIntervalMs: 300 })],
    });
    await eventually(async () => ((await handle.query<LoopStatus>(statusQuery)).cycle >= 6 ? true : undefined), 30_000, 'six cycles');
    await handle.terminate('scenario complete');
    return handle;
  }

  /** Fixtures are written by the temporal CLI (`workflow show --output json`), the standard export. */
  async function recordFixture(workflowId: string, name: string): Promise<void> {
    const cli = await ensureTemporalCli(pino({ level: 'silent' }));
    const shown = spawnSync(
      cli,
      ['workflow', 'show', '--address', testEnv().temporalAddress, '--workflow-id', workflowId, '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
    process.stderr.write(`recorded ${addHistory(RELEASE, name, shown.stdout)}\n`);
  }

  it('replays a fresh history of the loop (approval, crisis) through the current code', async () => {
    const handle = await scenario();
    const history = await handle.fetchHistory();
    if (process.env.BALLAST_RECORD_HISTORIES) await recordFixture(handle.workflowId, 'portfolio-loop-approval-crisis.json');
    expect(history.events?.some((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId === deployment.buildId)).toBe(
      true,
    );
    await expect(Worker.runReplayHistory(bundle(), history, handle.workflowId)).resolves.toBeUndefined();
  }, 120_000);

  it('replays a fresh history of calm cycles (policy by version, local activities) through the current code', async () => {
    const handle = await calmScenario();
    const history = await handle.fetchHistory();
    if (process.env.BALLAST_RECORD_HISTORIES) await recordFixture(handle.workflowId, 'portfolio-loop-calm-cycles.json');
    const localActivities = (history.events ?? []).flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      return data && e.markerRecordedEventAttributes?.markerName === 'core_local_activity'
        ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type]
        : [];
    });
    expect(localActivities.filter((a) => a === 'recordCalmCycle').length).toBeGreaterThanOrEqual(2);
    await expect(Worker.runReplayHistory(bundle(), history, handle.workflowId)).resolves.toBeUndefined();
  }, 120_000);

  it('keeps the corpus append-only: every history listed with its digest, none changed or removed', () => {
    const listed = Object.entries(readManifest().releases).flatMap(([release, r]) =>
      Object.entries(r.files).map(([name, sha]) => ({ file: `${release}/${name}`, sha })),
    );
    expect(filesOnDisk().sort()).toEqual(listed.map((l) => l.file).sort());
    for (const { file, sha } of listed) expect({ file, sha: digest(join(CORPUS_DIR, file)) }).toEqual({ file, sha });
    // A release retired from replay says why that is safe.
    for (const r of Object.values(readManifest().releases))
      if (r.retiredFromReplayIn) expect(r.retiredFromReplayIn.why.length).toBeGreaterThan(20);
  });

  it('replays every history of the corpus through the current code', () => {
    // In a plain Node process: the JSON decoder's protobuf types do not survive jest's module sandbox.
    const files = historiesToReplay();
    expect(files.length).toBeGreaterThan(0);
    const script = join(__dirname, '..', '..', '..', 'dist', 'test', 'support', 'replayHistories.js');
    const run = spawnSync(process.execPath, [script, testEnv().bundlePath, ...files], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(files.length);
  }, 60_000);
});
