/**
 * The Temporal UI as a first-class path (issue 11 §5): the workflow's current details explain the
 * pending change in human terms, every handler has a description, and a malformed approval Signal
 * (a typo in a field name) is loud — an alert and a note in the summary — instead of a silent
 * "success". Stand-in activities, real Temporal dev server; the metadata is read the way the UI reads it.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { manualRebalance, portfolioLoop } from '../../../workflows';
import { approveSignal, pendingRecommendationQuery } from '../../../workflows/messages';
import { type StandInEnvironment, standInEnvironment, until } from './standIns';

jest.setTimeout(60_000);

interface Metadata {
  readonly definition?: {
    readonly queryDefinitions?: { name: string; description?: string }[];
    readonly signalDefinitions?: { name: string; description?: string }[];
    readonly updateDefinitions?: { name: string; description?: string }[];
  };
  readonly currentDetails?: string;
}

let stand: StandInEnvironment;
beforeAll(async () => {
  stand = await standInEnvironment();
});
afterAll(() => stand?.teardown());

/** What the Temporal UI shows: the built-in metadata query. */
const metadataOf = (handle: WorkflowHandle) => handle.query<Metadata>('__temporal_workflow_metadata');

async function startLoop() {
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
  const pending = await until(async () => (await handle.query(pendingRecommendationQuery)) ?? undefined, 'a pending recommendation');
  return { world, handle, pending };
}

it('summarizes the pending change for a person: why, who asked, before → after, expiry in ISO time, how to approve', async () => {
  const { handle, pending } = await startLoop();
  const details = await until(async () => {
    const d = (await metadataOf(handle)).currentDetails;
    return d?.includes(pending.id) ? d : undefined;
  }, 'details naming the pending recommendation');
  expect(details).toContain('## Ballast control loop');
  expect(details).toContain(`### Waiting for approval: \`${pending.id}\``);
  expect(details).toContain('**requested by:** ballast-loop');
  expect(details).toContain(`**expires at:** ${new Date(pending.expiresAtMs as number).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  expect(details).toMatch(/\| gross limit \| – \| \*\*\$\d+\.\d\dM\*\* \|/);
  expect(details).toMatch(/\| forecast vol \| – \| \*\*\d+\.\d%\*\* \|/);
  expect(details).toContain('`approveRecommendation`');
  expect(details).not.toMatch(/\d{13}/); // no epoch milliseconds
  await handle.terminate();
});

it('describes every Signal, Update and Query handler of both workflows', async () => {
  const { handle } = await startLoop();
  const world = stand.world();
  const manual = await stand.env.client.workflow.start(manualRebalance, {
    taskQueue: stand.taskQueue,
    workflowId: `manual-${world.portfolioId}`,
    args: [{ portfolioId: world.portfolioId, requestedBy: 'erin', reason: 'r', approvalTimeoutMs: 60_000 }],
  });
  for (const h of [handle, manual]) {
    const { definition } = await metadataOf(h);
    const handlers = [
      ...(definition?.queryDefinitions ?? []),
      ...(definition?.signalDefinitions ?? []),
      ...(definition?.updateDefinitions ?? []),
    ];
    const ours = handlers.filter((d) => !d.name.startsWith('__'));
    expect(ours.length).toBeGreaterThanOrEqual(h === handle ? 13 : 5);
    expect(ours.filter((d) => !d.description).map((d) => d.name)).toEqual([]);
  }
  await handle.terminate();
  await manual.terminate();
});

it('makes a malformed approve Signal loud: an alert naming the bad field and a note in the summary', async () => {
  const { world, handle, pending } = await startLoop();
  // What a person typing into the UI's "Send a Signal" dialog might send.
  await handle.signal('approve', { recommendationID: pending.id, approver: 'alice', reason: 'ok' });
  const alert = await until(() => world.alertsOf('invalid-decision')[0], 'the invalid-decision alert');
  expect(alert.message).toMatch(
    /ignored approve signal from alice: unknown field "recommendationID": a decision has exactly recommendationId, approver, reason/,
  );
  const details = await until(async () => {
    const d = (await metadataOf(handle)).currentDetails;
    return d?.includes('### Notes') ? d : undefined;
  }, 'a note in the summary');
  expect(details).toMatch(/- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ — ignored approve signal from alice: unknown field "recommendationID"/);
  // Nothing was decided; the well-formed Signal still works.
  expect(world.decisions).toHaveLength(0);
  await handle.signal(approveSignal, { recommendationId: pending.id, approver: 'alice', reason: 'ok' });
  await until(() => world.committed[0], 'the commit');
  await handle.terminate();
});
