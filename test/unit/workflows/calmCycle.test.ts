/**
 * The loop's calm path (workflows/portfolioLoop.ts, patch 'calm-cycle'): a cycle where nothing changes
 * is one local read and one local write (two marker events), with no budget or policy in its history;
 * a cycle that acts (a regime change, another commit landing) still takes the full path. Stand-in
 * activities (./standIns.ts); the real figures per cycle are the capacity bench's (docs/capacity.md).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { portfolioLoop } from '../../../workflows';
import { statusQuery } from '../../../workflows/messages';
import type { LoopStatus } from '../../../workflows/types';
import { handBudget } from '../risk/fixtures';
import { type StandInEnvironment, type World, standInEnvironment, until } from './standIns';

jest.setTimeout(90_000);

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let stand: StandInEnvironment;
beforeAll(async () => {
  stand = await standInEnvironment();
});
afterAll(() => stand?.teardown());

async function startLoop(world: World): Promise<WorkflowHandle<typeof portfolioLoop>> {
  return stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `calm-${world.portfolioId}`,
    args: [{ portfolioId: world.portfolioId, marketData: { kind: 'csv', path: world.portfolioId }, monitoringIntervalMs: 100 }],
  });
}

/** The events after one TimerStarted up to and including the next: one whole cycle (as the capacity bench splits them). */
function cycles(events: readonly HistoryEvent[]): HistoryEvent[][] {
  const timers = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED ? [i] : []));
  return timers.slice(1).map((end, k) => events.slice(timers[k] + 1, end + 1));
}

const bytes = (segment: readonly HistoryEvent[]) =>
  segment.reduce((sum, e) => sum + temporal.api.history.v1.HistoryEvent.encode(e).finish().length, 0);
const markers = (segment: readonly HistoryEvent[]) => segment.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
const markerPayloads = (e: HistoryEvent) =>
  Object.values(e.markerRecordedEventAttributes?.details ?? {})
    .flatMap((p) => p.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? []).toString('utf8'))
    .join('');
const scheduled = (segment: readonly HistoryEvent[]) =>
  segment.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));

it('runs a calm cycle as two local activities: at most 12 events, no budget in its history', async () => {
  const world = stand.world();
  const handle = await startLoop(world);
  await until(() => (world.calmCycles.length >= 4 ? true : undefined), 'four calm cycles');
  const events = (await handle.fetchHistory()).events ?? [];
  await handle.terminate('test done');

  // The first cycle declares the regime and commits the initial budget through the activities.
  expect(world.committed).toHaveLength(1);
  const calm = cycles(events).filter((c) => scheduled(c).length === 0);
  expect(calm.length).toBeGreaterThanOrEqual(3);
  for (const cycle of calm) {
    expect(markers(cycle)).toHaveLength(2); // checkCycle's and recordCalmCycle's results
    expect(cycle.length).toBeLessThanOrEqual(12);
    expect(bytes(cycle)).toBeLessThanOrEqual(2048);
    expect(markers(cycle).map(markerPayloads).join('')).not.toContain('"limits"');
  }
  expect(world.calmCycles.every((c) => c.budgetVersion === 1)).toBe(true);
});

it('leaves the calm path when the regime changes: the new budget is assessed and committed by the activities', async () => {
  const world = stand.world();
  const handle = await startLoop(world);
  await until(() => (world.calmCycles.length >= 2 ? true : undefined), 'calm cycles');
  world.regime = 'crisis';
  await until(() => world.committed[1], 'the crisis budget committed');
  const calmBefore = world.calmCycles.length;
  await until(() => (world.calmCycles.length >= calmBefore + 2 ? true : undefined), 'calm cycles on the crisis budget');
  const status = await handle.query<LoopStatus>(statusQuery);
  const events = (await handle.fetchHistory()).events ?? [];
  await handle.terminate('test done');

  expect(status).toMatchObject({ regime: 'crisis', budgetVersion: 2 });
  expect(world.committed[1].budget.regime).toBe('crisis');
  expect(world.alertsOf('regime-change').map((a) => (a.details as { to: string }).to)).toEqual(['bull', 'crisis']);
  expect(world.calmCycles.slice(calmBefore).every((c) => c.budgetVersion === 2)).toBe(true);
  const acting = cycles(events).filter((c) => scheduled(c).includes('commitRecommendation'));
  expect(acting).toHaveLength(1);
  expect(scheduled(acting[0])).toEqual(expect.arrayContaining(['computeBudget', 'evaluateTriggers', 'recordMetrics', 'heartbeat']));
});

it('takes up a budget committed outside the loop (a manual rebalance) from the calm read', async () => {
  const world = stand.world();
  const handle = await startLoop(world);
  await until(() => (world.calmCycles.length >= 2 ? true : undefined), 'calm cycles');
  world.committed.push({ version: 2, budget: handBudget({ portfolioId: world.portfolioId, regime: 'bull' }) });
  await until(async () => ((await handle.query<LoopStatus>(statusQuery)).budgetVersion === 2 ? true : undefined), 'budget version 2');
  const calmBefore = world.calmCycles.length;
  await until(() => (world.calmCycles.length >= calmBefore + 2 ? true : undefined), 'calm cycles after it');
  await handle.terminate('test done');
  expect(world.calmCycles.slice(calmBefore).every((c) => c.budgetVersion === 2)).toBe(true);
});
