/**
 * Separation of duties in the approval rule itself (workflows/approvalBook.ts, risk/approval.ts): the
 * requester of a risk-increasing change or of an override may not approve it, whichever path the
 * approval takes (Update: refused with a typed failure; Signal: ignored, alerted and noted), a second
 * person may, and a risk-reducing change needs nobody. Stand-in activities, real Temporal dev server.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { LOOP_REQUESTER } from '../../../risk/approval';
import { manualRebalance, portfolioLoop } from '../../../workflows';
import { approveSignal, approveUpdate, overrideLimitUpdate, pendingRecommendationQuery, rejectUpdate } from '../../../workflows/messages';
import { manualRebalanceWorkflowId } from '../../../workflows/types';
import { mainCli } from '../../support/cli';
import { type StandInEnvironment, type World, standInEnvironment, until } from './standIns';

jest.setTimeout(60_000);

let stand: StandInEnvironment;
beforeAll(async () => {
  stand = await standInEnvironment();
});
afterAll(() => stand?.teardown());

/** A manual rebalance requested by `requestedBy` over a fresh world (no budget yet, so it adds risk). */
async function startManual(requestedBy: string, prepare: (w: World) => void = () => undefined) {
  const world = stand.world();
  prepare(world);
  const handle = await stand.env.client.workflow.start(manualRebalance, {
    taskQueue: stand.taskQueue,
    workflowId: manualRebalanceWorkflowId(world.portfolioId),
    args: [{ portfolioId: world.portfolioId, requestedBy, reason: 'month end', approvalTimeoutMs: 60_000 }],
  });
  return { world, handle };
}

const pendingOf = (handle: WorkflowHandle) =>
  until(async () => (await handle.query(pendingRecommendationQuery)) ?? undefined, 'a pending recommendation');

/** The typed failure an Update was refused with. */
async function refusalOf(update: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

it('refuses, by Update, the requester approving their own risk-increasing manual rebalance; a second person commits it', async () => {
  const { world, handle } = await startManual('erin');
  const pending = await pendingOf(handle);
  expect(pending).toMatchObject({ addsRisk: true, requestedBy: 'erin' });
  for (const approver of ['erin', ' Erin ']) {
    const refused = await refusalOf(
      handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver, reason: 'mine' }] }),
    );
    expect(refused.type).toBe('SeparationOfDuties');
    expect(refused.message).toMatch(/requested risk-increasing recommendation .* and may not approve it: a second person must/);
  }
  expect(world.decisions).toHaveLength(0);
  const result = await handle.executeUpdate(approveUpdate, {
    args: [{ recommendationId: pending.id, approver: 'cro', reason: 'checked' }],
  });
  expect(result).toMatchObject({ status: 'COMMITTED', committedVersion: 1 });
  expect(await handle.result()).toMatchObject({ outcome: 'COMMITTED', version: 1 });
  expect(world.decisions.map((d) => [d.decision, d.approver])).toEqual([['APPROVED', 'cro']]);
  expect(world.recommendations.get(pending.id)?.requestedBy).toBe('erin');
});

it('ignores, by Signal, the requester approving their own change, with an alert; a second person’s Signal commits it', async () => {
  const { world, handle } = await startManual('erin');
  const pending = await pendingOf(handle);
  await handle.signal(approveSignal, { recommendationId: pending.id, approver: 'erin', reason: 'mine' });
  const alert = await until(() => world.alertsOf('separation-of-duties')[0], 'the separation-of-duties alert');
  expect(alert.message).toMatch(/ignored approve signal from erin: erin requested risk-increasing recommendation/);
  expect((await handle.query(pendingRecommendationQuery))?.id).toBe(pending.id);
  expect(world.committed).toHaveLength(0);
  // Visible where the person who sent it looks: the workflow's summary in the Temporal UI.
  const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(currentDetails).toMatch(/### Notes[\s\S]*ignored approve signal from erin: erin requested risk-increasing recommendation/);
  await handle.signal(approveSignal, { recommendationId: pending.id, approver: 'cro', reason: 'checked' });
  expect(await handle.result()).toMatchObject({ outcome: 'COMMITTED', version: 1 });
  expect(world.decisions.map((d) => [d.decision, d.approver])).toEqual([['APPROVED', 'cro']]);
});

it('lets the requester withdraw (reject) their own change', async () => {
  const { handle } = await startManual('erin');
  const pending = await pendingOf(handle);
  const result = await handle.executeUpdate(rejectUpdate, {
    args: [{ recommendationId: pending.id, approver: 'erin', reason: 'changed my mind' }],
  });
  expect(result.status).toBe('REJECTED');
  expect(await handle.result()).toMatchObject({ outcome: 'REJECTED' });
});

it('commits a risk-reducing manual rebalance at once: no second person needed', async () => {
  const { world, handle } = await startManual('erin', (w) => {
    w.committed.push({ version: 1, budget: w.budgetFor('bull') });
    w.regime = 'crisis';
  });
  expect(await handle.result()).toMatchObject({ outcome: 'COMMITTED', version: 2 });
  expect(world.decisions).toHaveLength(0);
  expect(world.committed.map((c) => c.budget.regime)).toEqual(['bull', 'crisis']);
});

it('treats the loop as the requester of its own proposals: nobody may approve one under the loop’s name', async () => {
  const world = stand.world();
  const handle = await stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `loop-${world.portfolioId}`,
    args: [
      {
        portfolioId: world.portfolioId,
        marketData: { kind: 'csv', path: world.portfolioId },
        monitoringIntervalMs: 50,
        autoApproveInitialBudget: false,
      },
    ],
  });
  const pending = await pendingOf(handle);
  expect(pending.requestedBy).toBe(LOOP_REQUESTER);
  const refused = await refusalOf(
    handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: LOOP_REQUESTER, reason: 'x' }] }),
  );
  expect(refused.type).toBe('SeparationOfDuties');
  expect(
    await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'alice', reason: 'ok' }] }),
  ).toMatchObject({
    status: 'COMMITTED',
  });
  await handle.terminate();
});

it('refuses an override approved by its own requester, or naming no requester; accepts one approved by someone else', async () => {
  const world = stand.world();
  const handle = await stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `loop-${world.portfolioId}`,
    args: [{ portfolioId: world.portfolioId, marketData: { kind: 'csv', path: world.portfolioId }, monitoringIntervalMs: 50 }],
  });
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  const request = { field: 'maxGrossNotional' as const, value: 2e6, reason: 'client flow', expiresAt };
  const own = await refusalOf(handle.executeUpdate(overrideLimitUpdate, { args: [{ ...request, requestedBy: 'dan', approver: 'DAN' }] }));
  expect(own.type).toBe('SeparationOfDuties');
  const anonymous = await refusalOf(handle.executeUpdate(overrideLimitUpdate, { args: [{ ...request, approver: 'cro' }] }));
  expect(anonymous.type).toBe('InvalidRequest');
  expect(anonymous.message).toMatch(/requestedBy is required/);
  expect(await handle.executeUpdate(overrideLimitUpdate, { args: [{ ...request, requestedBy: 'dan', approver: 'cro' }] })).toEqual({
    overrideId: 1,
  });
  await handle.terminate();
});

it('refuses the requester by the CLI too (`ballast rebalance`, then `ballast approve --manual`: the same Update)', async () => {
  const world = stand.world();
  const previous = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = stand.env.address;
  try {
    const started = await mainCli([
      'rebalance',
      '--portfolio',
      world.portfolioId,
      '--by',
      'erin',
      '--reason',
      'month end',
      '--task-queue',
      stand.taskQueue,
    ]);
    expect(started.code).toBe(0);
    const handle = stand.env.client.workflow.getHandle(manualRebalanceWorkflowId(world.portfolioId));
    const pending = await pendingOf(handle);
    expect(pending.requestedBy).toBe('erin');
    const approve = (by: string) =>
      mainCli(['approve', '--portfolio', world.portfolioId, '--recommendation', pending.id, '--by', by, '--reason', 'r', '--manual']);
    const own = await approve('erin');
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/^ballast approve: refused \(SeparationOfDuties\): erin requested risk-increasing recommendation/);
    const other = await approve('cro');
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout)).toMatchObject({ status: 'COMMITTED', committedVersion: 1 });
    expect(await (await handle.describe()).staticSummary()).toBe(`Manual rebalance of ${world.portfolioId} requested by erin: month end`);
  } finally {
    process.env.TEMPORAL_ADDRESS = previous;
  }
});
