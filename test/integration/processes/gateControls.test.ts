/**
 * The gate's control ports on the real Temporal server (issue 13 §3): OverrideLimit and
 * TriggerRebalance retried with the same request id return the first call's result and act once.
 */
import { temporalLimitOverrider, temporalRebalanceStarter } from '../../../processes/gateControls';
import { RebalanceAlreadyRunning } from '../../../grpc/ports';
import { manualRebalanceWorkflowId } from '../../../workflows/types';
import { useLoopHarness } from '../../support/harness';

describe('control calls retried with a request id', () => {
  const h = useLoopHarness('controls');

  test('OverrideLimit: a retry returns the first override id and records no second override', async () => {
    const { portfolioId, handle } = await h.startLoop({ prefix: 'ctl', seed: 5 });
    const overrider = temporalLimitOverrider(h.client);
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const command = {
      field: 'maxGrossNotional' as const,
      value: 5e6,
      reason: 'desk call',
      requestedBy: 'trader',
      approver: 'cro',
      expiresAt,
    };
    const first = await overrider.override(portfolioId, command, 'req-1');
    expect(await overrider.override(portfolioId, command, 'req-1')).toEqual(first);
    const other = await overrider.override(portfolioId, command, 'req-2');
    expect(other.overrideId).not.toBe(first.overrideId);
    // Without a request id every call is a new override.
    const plain = await overrider.override(portfolioId, command);
    expect(new Set([first.overrideId, other.overrideId, plain.overrideId]).size).toBe(3);
    const { rows } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM limit_overrides WHERE portfolio_id = $1', [
      portfolioId,
    ]);
    expect(rows[0].n).toBe(3);
    await handle.terminate('test done');
  }, 120_000);

  test('TriggerRebalance: a retry answers the workflow it started; another request while it runs is refused', async () => {
    const { portfolioId, handle } = await h.startLoop({ prefix: 'ctlrb', seed: 6 });
    const starter = temporalRebalanceStarter(h.client, h.taskQueue);
    const first = await starter.start(portfolioId, 'ops', 'month end', 'rb-1');
    expect(first.workflowId).toBe(manualRebalanceWorkflowId(portfolioId));
    const run = (await h.client.workflow.getHandle(first.workflowId).describe()).runId;
    expect(await starter.start(portfolioId, 'ops', 'month end', 'rb-1')).toEqual(first);
    // Still the one run: the retry started nothing, whether the first has finished or not.
    expect((await h.client.workflow.getHandle(first.workflowId).describe()).runId).toBe(run);
    const described = await h.client.workflow.getHandle(first.workflowId).describe();
    if (described.status.name === 'RUNNING') {
      await expect(starter.start(portfolioId, 'ops', 'again', 'rb-2')).rejects.toBeInstanceOf(RebalanceAlreadyRunning);
    }
    await h.client.workflow
      .getHandle(first.workflowId)
      .terminate('test done')
      .catch(() => undefined);
    await handle.terminate('test done');
  }, 120_000);
});
