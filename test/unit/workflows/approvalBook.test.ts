/**
 * The approval rule as the workflows run it (workflows/approvalBook.ts), one test per outcome, with
 * stand-in activities: committed, rejected (and not asked again before the cooldown), expired,
 * superseded (by a proposal for a new regime, or refused at commit), an invalid signal; and pausing. Timers are real
 * but short: the loop cycles every 50 ms and the approval timeouts are passed in as inputs.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { manualRebalance, portfolioLoop } from '../../../workflows';
import {
  approveSignal,
  approveUpdate,
  marketEventSignal,
  pauseUpdate,
  pendingRecommendationQuery,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../../../workflows/messages';
import type { PortfolioLoopInput } from '../../../workflows/types';
import { type StandInEnvironment, type World, standInEnvironment, until } from './standIns';

jest.setTimeout(60_000);

let stand: StandInEnvironment;
beforeAll(async () => {
  stand = await standInEnvironment();
});
afterAll(() => stand?.teardown());

/** A loop over a fresh world, cycling every 50 ms, whose first budget needs approval. */
async function startLoop(input: Partial<PortfolioLoopInput> = {}): Promise<{ world: World; handle: WorkflowHandle<typeof portfolioLoop> }> {
  const world = stand.world();
  const { portfolioId } = world;
  const handle = await stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `loop-${portfolioId}`,
    args: [
      { portfolioId, marketData: { kind: 'csv', path: portfolioId }, monitoringIntervalMs: 50, autoApproveInitialBudget: false, ...input },
    ],
  });
  return { world, handle };
}

const pendingOf = (handle: WorkflowHandle) =>
  until(async () => (await handle.query(pendingRecommendationQuery)) ?? undefined, 'a pending recommendation');

async function refusal(update: Promise<unknown>): Promise<string> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((err as WorkflowUpdateFailedError).cause?.message);
}

it('commits a risk-increasing proposal once a human approves it', async () => {
  const { world, handle } = await startLoop({ approvalTimeoutMs: 60_000 });
  const pending = await pendingOf(handle);
  expect(pending.addsRisk).toBe(true);
  expect(world.committed).toHaveLength(0);
  const result = await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'alice', reason: 'ok' }] });
  expect(result).toEqual({ recommendationId: pending.id, status: 'COMMITTED', committedVersion: 1 });
  expect(world.committed.map((c) => c.budget.regime)).toEqual(['bull']);
  expect(world.decisions.map((d) => [d.recommendationId, d.decision, d.approver])).toEqual([[pending.id, 'APPROVED', 'alice']]);
  expect((await handle.query(statusQuery)).budgetVersion).toBe(1);
  await handle.terminate();
});

it('never commits a rejected proposal and does not ask again for the same regime before the cooldown', async () => {
  const cooldownMs = 2_000; // the approval timeout doubles as the cooldown after a rejection
  const { world, handle } = await startLoop({ approvalTimeoutMs: cooldownMs });
  const first = await pendingOf(handle);
  const result = await handle.executeUpdate(rejectUpdate, { args: [{ recommendationId: first.id, approver: 'bob', reason: 'no' }] });
  expect(result.status).toBe('REJECTED');
  const second = await until(async () => {
    const p = await handle.query(pendingRecommendationQuery);
    return p && p.id !== first.id ? p : undefined;
  }, 'the proposal after the cooldown');
  // In workflow time: asked again only once the cooldown since the rejection had passed...
  const rejectedAtMs = first.createdAtMs + world.decisions[0].latencyMs;
  expect(second.createdAtMs - rejectedAtMs).toBeGreaterThanOrEqual(cooldownMs);
  // ...although the loop cycled right after the rejection (the Update wakes it; ids name the cycle) and
  // nothing else was proposed meanwhile.
  const cycleOf = (id: string) => Number(id.split('-c').pop());
  expect(cycleOf(second.id) - cycleOf(first.id)).toBeGreaterThanOrEqual(2);
  // The query can see the pending proposal a moment before its record activity has run.
  await until(async () => (world.recommendations.has(second.id) ? true : undefined), 'the second proposal recorded');
  expect([...world.recommendations.keys()]).toEqual([first.id, second.id]);
  expect(world.statusOf(first.id)).toBe('REJECTED');
  expect(world.committed).toHaveLength(0);
  await handle.terminate();
});

it('expires a proposal nobody decided, with an alert, and commits nothing', async () => {
  const { world, handle } = await startLoop({ approvalTimeoutMs: 300 });
  const pending = await pendingOf(handle);
  await until(() => world.alertsOf('approval-expired')[0], 'the expiry alert');
  expect(world.statusOf(pending.id)).toBe('EXPIRED');
  expect(world.decisions.find((d) => d.recommendationId === pending.id)).toMatchObject({ decision: 'EXPIRED', approver: 'system' });
  expect(world.alertsOf('approval-expired').map((a) => a.details.recommendationId)).toContain(pending.id);
  expect(world.committed).toHaveLength(0);
  // A late approval is refused by name.
  expect(
    await refusal(handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'alice', reason: 'late' }] })),
  ).toMatch(/already EXPIRED/);
  await handle.terminate();
});

it('supersedes a pending proposal when the regime moves on, and refuses a late decision on it', async () => {
  const { world, handle } = await startLoop({ approvalTimeoutMs: 60_000 });
  const first = await pendingOf(handle);
  expect(first.budget.regime).toBe('bull');
  world.regime = 'crisis';
  const second = await until(async () => {
    const p = await handle.query(pendingRecommendationQuery);
    return p && p.id !== first.id ? p : undefined;
  }, 'the proposal for the new regime');
  expect(second.budget.regime).toBe('crisis');
  expect(world.statusOf(first.id)).toBe('SUPERSEDED');
  expect(
    await refusal(handle.executeUpdate(approveUpdate, { args: [{ recommendationId: first.id, approver: 'alice', reason: 'late' }] })),
  ).toMatch(/already SUPERSEDED/);
  expect(world.committed).toHaveLength(0);
  await handle.terminate();
});

it('supersedes an approved proposal the store refuses to commit (the budget moved meanwhile)', async () => {
  const world = stand.world();
  world.refuseCommits = true;
  const handle = await stand.env.client.workflow.start(manualRebalance, {
    taskQueue: stand.taskQueue,
    workflowId: `manual-${world.portfolioId}`,
    args: [{ portfolioId: world.portfolioId, requestedBy: 'erin', reason: 'month end', approvalTimeoutMs: 60_000 }],
  });
  const pending = await pendingOf(handle);
  const result = await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'cro', reason: 'fine' }] });
  expect(result.status).toBe('SUPERSEDED');
  expect(await handle.result()).toEqual({ outcome: 'SUPERSEDED', recommendationId: pending.id, version: null });
  expect(world.alertsOf('commit-refused')).toHaveLength(1);
});

it('ignores an invalid approve signal with an alert, leaving the pending proposal as it was', async () => {
  const { world, handle } = await startLoop({ approvalTimeoutMs: 60_000 });
  const pending = await pendingOf(handle);
  await handle.signal(approveSignal, { recommendationId: 'no-such-rec', approver: 'mallory', reason: 'x' });
  const alert = await until(() => world.alertsOf('invalid-decision')[0], 'the invalid-decision alert');
  expect(alert.message).toMatch(/ignored approve signal from mallory: unknown recommendation no-such-rec/);
  expect((await handle.query(pendingRecommendationQuery))?.id).toBe(pending.id);
  expect(world.decisions).toHaveLength(0);
  expect(world.committed).toHaveLength(0);
  await handle.terminate();
});

it('runs no cycle while paused, even when woken by a market event, and resumes on request', async () => {
  const { world, handle } = await startLoop({ approvalTimeoutMs: 60_000 });
  await pendingOf(handle);
  await handle.executeUpdate(pauseUpdate, { args: [{ operator: 'ops', reason: 'maintenance' }] });
  const paused = await handle.query(statusQuery);
  const barWhenPaused = world.bar;
  await handle.signal(marketEventSignal, { source: 'test' });
  await handle.signal(marketEventSignal, { source: 'test' });
  const after = await handle.query(statusQuery); // answered after the signals were applied
  expect(after).toMatchObject({ paused: true, cycle: paused.cycle });
  expect(world.bar).toBe(barWhenPaused);
  await handle.executeUpdate(resumeUpdate, { args: [{ operator: 'ops', reason: 'done' }] });
  await until(async () => ((await handle.query(statusQuery)).cycle > paused.cycle ? true : undefined), 'a cycle after resume');
  await handle.terminate();
});
