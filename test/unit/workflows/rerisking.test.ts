/**
 * The re-risking policy as the loop applies it (workflows/portfolioLoop.ts → risk/rerisking.ts
 * decideAsk), in a crisis → calm recovery where the engine's gross limit climbs back from $4.76M to
 * $14.86M bar by bar: a desk approving at once is asked once per spacing, for one bounded step; and a
 * newer proposal supersedes the pending ask (marked so, with a reason) instead of queueing behind it.
 * The fatigue measurement itself (asks before/after) is the pure simulation in test/unit/risk/rerisking.test.ts:
 * stand-in cycles run at whatever speed the machine allows, so counts over wall time would not be stable.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { ReriskingPolicy } from '../../../risk/rerisking';
import { portfolioLoop } from '../../../workflows';
import { approveUpdate, pendingRecommendationQuery } from '../../../workflows/messages';
import { type StandInEnvironment, standInEnvironment, until } from './standIns';

jest.setTimeout(90_000);

let stand: StandInEnvironment;
beforeAll(async () => {
  stand = await standInEnvironment();
});
afterAll(() => stand?.teardown());

const CRISIS_GROSS = 4.76e6;
const CALM_GROSS = 14.86e6;
const CALM_AT_BAR = 5;
const BARS_AFTER_CALM = 12;
const INTERVAL_MS = 50;

/** The engine's gross limit at a bar: crisis level, then an exponential recovery (leverage smoothing) toward calm. */
const grossAt = (bar: number): number =>
  bar < CALM_AT_BAR ? CRISIS_GROSS : CALM_GROSS - (CALM_GROSS - CRISIS_GROSS) * 0.85 ** (bar - CALM_AT_BAR + 1);

/** A loop over a world in crisis whose engine recovers toward calm from CALM_AT_BAR. */
async function startRecovery(rerisking: ReriskingPolicy, engineGross = grossAt) {
  const world = stand.world();
  world.regime = 'crisis';
  world.grossAt = engineGross;
  const handle: WorkflowHandle<typeof portfolioLoop> = await stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `loop-${world.portfolioId}`,
    args: [
      {
        portfolioId: world.portfolioId,
        marketData: { kind: 'csv', path: world.portfolioId },
        monitoringIntervalMs: INTERVAL_MS,
        rerisking,
      },
    ],
  });
  await until(() => world.committed[0], 'the crisis budget');
  return { world, handle };
}

it('asks a desk that approves at once only once per spacing, for a step of at most +50 % gross', async () => {
  // The engine jumps to the calm gross in one bar: the demo's single $4.76M → $14.86M ask.
  const { world, handle } = await startRecovery({ maxGrossStepUp: 0.5, minSpacingMs: 60_000 }, (bar) =>
    bar < CALM_AT_BAR ? CRISIS_GROSS : CALM_GROSS,
  );
  world.regime = 'bull';
  const approved = new Set<string>();
  while (world.bar < CALM_AT_BAR + BARS_AFTER_CALM) {
    const pending = await handle.query(pendingRecommendationQuery);
    if (pending && !approved.has(pending.id)) {
      approved.add(pending.id);
      await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'cro', reason: 'recovery' }] });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await handle.terminate();
  const asks = [...world.recommendations.values()].filter((r) => r.addsRisk);
  expect(asks).toHaveLength(1); // the engine kept proposing more risk every bar; the spacing held it to one ask
  const grosses = world.committed.map((c) => c.budget.limits.maxGrossNotional);
  const step = grosses[grosses.length - 1];
  expect(step / CRISIS_GROSS).toBeCloseTo(1.5, 9);
  expect(asks[0].summary).toMatchObject({ grossLimitAfter: step, reriskStep: expect.stringMatching(/at most \+50% gross/) });
  expect(asks[0].summary.engineGrossTarget).toBe(CALM_GROSS);
});

it('supersedes the pending ask with a newer proposal once the spacing allows, recording why', async () => {
  const world = stand.world();
  world.regime = 'crisis';
  world.grossAt = grossAt;
  const handle = await stand.env.client.workflow.start(portfolioLoop, {
    taskQueue: stand.taskQueue,
    workflowId: `loop-${world.portfolioId}`,
    args: [
      {
        portfolioId: world.portfolioId,
        marketData: { kind: 'csv', path: world.portfolioId },
        monitoringIntervalMs: INTERVAL_MS,
        rerisking: { maxGrossStepUp: null, minSpacingMs: 200 },
      },
    ],
  });
  await until(() => world.committed[0], 'the crisis budget');
  world.regime = 'bull';
  const first = await until(async () => (await handle.query(pendingRecommendationQuery)) ?? undefined, 'the first ask');
  const second = await until(async () => {
    const p = await handle.query(pendingRecommendationQuery);
    return p && p.id !== first.id ? p : undefined;
  }, 'a newer ask');
  expect(second.createdAtMs - first.createdAtMs).toBeGreaterThanOrEqual(200);
  expect(world.statusOf(first.id)).toBe('SUPERSEDED');
  expect(world.settledReasons.get(first.id)).toBe(`superseded by the newer proposal ${second.id} (limit-change)`);
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toMatch(/### Notes[\s\S]*superseded by the newer proposal/);
  await handle.terminate();
});
