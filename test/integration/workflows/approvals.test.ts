/**
 * The approval rule and operator controls end to end, on the real Temporal server, activities and
 * Postgres: what lands in the tables, search attributes, validators, continue-as-new, the temporal
 * CLI. Each outcome of the rule itself is tested without waiting in test/unit/workflows. A portfolio
 * started with `autoApproveInitialBudget: false` makes its very first budget a risk-increasing change
 * (from "deny everything" to real limits), which is the quickest way to a pending recommendation.
 */
import { spawnSync } from 'node:child_process';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import pino from 'pino';
import { ensureTemporalCli } from '../../../infra/temporal';
import {
  approveSignal,
  approveUpdate,
  overrideLimitUpdate,
  pauseUpdate,
  rejectSignal,
  rejectUpdate,
  resumeUpdate,
  setScopedTradingStateUpdate,
  setTradingStateUpdate,
  statusQuery,
} from '../../../workflows/messages';
import type { Recommendation } from '../../../risk/approval';
import { manualRebalance } from '../../../workflows';
import { type LoopStatus, type ManualRebalanceResult, manualRebalanceWorkflowId } from '../../../workflows/types';
import { eventually, testEnv, uniqueId } from '../../support/env';
import { TEST_ASSETS, useLoopHarness } from '../../support/harness';

/** The validator's message travels as the cause of the client's WorkflowUpdateFailedError. */
async function updateRefusal(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return String((err as WorkflowUpdateFailedError).cause?.message);
  }
  throw new Error('the update was accepted');
}

describe('approvals and operator controls', () => {
  const h = useLoopHarness('approvals');

  async function startGuardedLoop(opts: { approvalTimeoutMs?: number; cyclesPerRun?: number } = {}) {
    const { portfolioId, handle } = await h.startLoop({
      prefix: 'appr',
      seed: 3,
      input: {
        monitoringIntervalMs: 500,
        autoApproveInitialBudget: false,
        approvalTimeoutMs: opts.approvalTimeoutMs ?? 60_000,
        cyclesPerRun: opts.cyclesPerRun,
      },
    });
    const pending = await eventually(
      async () => (await handle.query<LoopStatus>(statusQuery)).pendingRecommendation ?? undefined,
      30_000,
      'a pending recommendation',
    );
    return { portfolioId, handle, pending };
  }

  const recommendationStatus = async (id: string) =>
    (await h.pool.query<{ status: string }>('SELECT status FROM recommendations WHERE id = $1', [id])).rows[0]?.status;

  it('holds a risk-increasing change until an Update approves it, then commits it', async () => {
    const { portfolioId, handle, pending } = await startGuardedLoop();
    expect(pending.addsRisk).toBe(true);
    // The engine's recommendation rides along: target allocation, per-asset deltas, turnover, cost, priority.
    expect(pending.detail?.deltas.length).toBe(5);
    expect(pending.detail?.turnover).toBeGreaterThan(0);
    expect(pending.detail?.estimatedCost).toBeGreaterThan(0);
    expect(pending.detail?.priority).toEqual(expect.any(String));
    expect(await h.store.countVersions(portfolioId)).toBe(0);
    expect(await recommendationStatus(pending.id)).toBe('PENDING');
    // Operators find it in the UI by search attributes.
    const listed = await eventually(
      async () => {
        for await (const wf of h.client.workflow.list({ query: `BallastPortfolio = '${portfolioId}' AND BallastPendingApproval = true` }))
          return wf.workflowId;
        return undefined;
      },
      15_000,
      'the workflow listed as pending approval',
    );
    expect(listed).toBe(handle.workflowId);

    const result = await handle.executeUpdate(approveUpdate, {
      args: [{ recommendationId: pending.id, approver: 'alice', reason: 'reviewed' }],
    });
    expect(result).toEqual({ recommendationId: pending.id, status: 'COMMITTED', committedVersion: 1 });
    await eventually(
      async () => {
        for await (const wf of h.client.workflow.list({ query: `BallastPortfolio = '${portfolioId}' AND BallastPendingApproval = false` }))
          return wf.workflowId;
        return undefined;
      },
      15_000,
      'the pending-approval flag cleared',
    );
    expect(await h.store.countVersions(portfolioId)).toBe(1);
    expect(await recommendationStatus(pending.id)).toBe('COMMITTED');
    const decision = await h.pool.query('SELECT decision, approver, latency_ms FROM approval_decisions WHERE recommendation_id = $1', [
      pending.id,
    ]);
    expect(decision.rows).toEqual([{ decision: 'APPROVED', approver: 'alice', latency_ms: expect.any(String) }]);
    // The commit wrote its plan once; later cycles may re-issue it for book drift, still for version 1.
    const plans = await h.pool.query<{ idempotency_key: string; budget_version: number }>(
      'SELECT idempotency_key, budget_version FROM rebalance_outbox WHERE portfolio_id = $1',
      [portfolioId],
    );
    expect(plans.rows.filter((p) => p.idempotency_key === `${portfolioId}:v1`)).toEqual([
      { idempotency_key: `${portfolioId}:v1`, budget_version: 1 },
    ]);
    expect(plans.rows.every((p) => p.budget_version === 1)).toBe(true);

    // Deciding it again is refused by the validator, naming the reason.
    expect(
      await updateRefusal(
        handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'bob', reason: 'again' }] }),
      ),
    ).toMatch(/already COMMITTED/);
    await handle.terminate('test done');
  }, 90_000);

  it('never commits a change rejected by a Signal', async () => {
    const { portfolioId, handle, pending } = await startGuardedLoop();
    await handle.signal(rejectSignal, { recommendationId: pending.id, approver: 'carol', reason: 'too much leverage' });
    await eventually(async () => ((await recommendationStatus(pending.id)) === 'REJECTED' ? true : undefined), 10_000, 'the rejection');
    const decision = await h.pool.query('SELECT decision, approver FROM approval_decisions WHERE recommendation_id = $1', [pending.id]);
    expect(decision.rows).toEqual([{ decision: 'REJECTED', approver: 'carol' }]);
    expect(await h.store.countVersions(portfolioId)).toBe(0);
    await handle.terminate('test done');
  }, 90_000);

  it('refuses an invalid Update in its validator without writing to history', async () => {
    const { handle, pending } = await startGuardedLoop();
    const historyBefore = await handle.fetchHistory();
    expect(
      await updateRefusal(
        handle.executeUpdate(approveUpdate, { args: [{ recommendationId: 'no-such-rec', approver: 'dave', reason: 'x' }] }),
      ),
    ).toMatch(/unknown recommendation no-such-rec/);
    expect(
      await updateRefusal(handle.executeUpdate(rejectUpdate, { args: [{ recommendationId: pending.id, approver: '', reason: 'x' }] })),
    ).toMatch(/approver is required/);
    const history = await handle.fetchHistory();
    const updateEvents = (history.events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes,
    );
    expect(updateEvents).toHaveLength(0);
    expect(history.events!.length).toBeGreaterThanOrEqual(historyBefore.events!.length);
    // Still pending: the bad updates changed nothing.
    expect((await handle.query<LoopStatus>(statusQuery)).pendingRecommendation?.id).toBe(pending.id);
    await handle.terminate('test done');
  }, 90_000);

  it('applies operator controls and records them: pause/resume, trading state, limit override', async () => {
    const { portfolioId, handle, pending } = await startGuardedLoop();
    await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'alice', reason: 'ok' }] });
    await handle.executeUpdate(pauseUpdate, { args: [{ operator: 'ops', reason: 'maintenance' }] });
    const paused = await handle.query<LoopStatus>(statusQuery);
    expect(paused.paused).toBe(true);
    await handle.executeUpdate(resumeUpdate, { args: [{ operator: 'ops', reason: 'done' }] });
    await eventually(
      async () => ((await handle.query<LoopStatus>(statusQuery)).cycle > paused.cycle ? true : undefined),
      10_000,
      'cycles after resume',
    );

    await handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'REDUCING', operator: 'ops', reason: 'drawdown' }] });
    const state = await h.pool.query('SELECT trading_state, state_changed_by FROM portfolios WHERE id = $1', [portfolioId]);
    expect(state.rows[0]).toEqual({ trading_state: 'REDUCING', state_changed_by: 'ops' });
    expect(
      await updateRefusal(
        handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'PANIC' as never, operator: 'ops', reason: 'x' }] }),
      ),
    ).toMatch(/state must be one of ACTIVE, REDUCING, HALTED/);

    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const { overrideId } = await handle.executeUpdate(overrideLimitUpdate, {
      args: [{ field: 'maxGrossNotional', value: 5e6, reason: 'desk call', requestedBy: 'trader', approver: 'cro', expiresAt }],
    });
    const override = await h.pool.query('SELECT field, value, approver, requested_by FROM limit_overrides WHERE id = $1', [overrideId]);
    expect(override.rows[0]).toEqual({ field: 'maxGrossNotional', value: 5e6, approver: 'cro', requested_by: 'trader' });
    expect(
      await updateRefusal(
        handle.executeUpdate(overrideLimitUpdate, {
          args: [{ field: 'maxGrossNotional', value: 1, reason: 'r', requestedBy: 'b', approver: 'a', expiresAt: '2000-01-01T00:00:00Z' }],
        }),
      ),
    ).toMatch(/in the future/);

    const actions = await h.pool.query<{ action: string }>(
      'SELECT action FROM operator_actions WHERE portfolio_id = $1 ORDER BY created_at',
      [portfolioId],
    );
    expect(actions.rows.map((r) => r.action)).toEqual(['pause', 'resume', 'trading-state:REDUCING', 'override']);
    await handle.terminate('test done');
  }, 90_000);

  it("sets a strategy's and an instrument's trading state through setScopedTradingState, recorded with who, why and when", async () => {
    const { portfolioId, handle } = await startGuardedLoop();
    const halt = { state: 'HALTED' as const, scope: { kind: 'strategy' as const, name: 'trend' }, operator: 'olga', reason: 'bad fills' };
    expect(await handle.executeUpdate(setScopedTradingStateUpdate, { args: [halt] })).toEqual({ state: 'HALTED' });
    await handle.executeUpdate(setScopedTradingStateUpdate, {
      args: [{ state: 'REDUCING', scope: { kind: 'instrument', name: 'AAPL' }, operator: 'olga', reason: 'news' }],
    });
    await handle.executeUpdate(setScopedTradingStateUpdate, { args: [{ ...halt, state: 'ACTIVE', reason: 'fills fixed' }] });
    const rows = await h.pool.query(
      'SELECT scope_kind, scope_name, state, reason, changed_by, changed_at IS NOT NULL AS dated FROM scoped_trading_states WHERE portfolio_id = $1 ORDER BY scope_kind',
      [portfolioId],
    );
    expect(rows.rows).toEqual([
      { scope_kind: 'instrument', scope_name: 'AAPL', state: 'REDUCING', reason: 'news', changed_by: 'olga', dated: true },
      { scope_kind: 'strategy', scope_name: 'trend', state: 'ACTIVE', reason: 'fills fixed', changed_by: 'olga', dated: true },
    ]);
    // The loop's own state is the portfolio's: untouched by scoped changes.
    expect((await handle.query<LoopStatus>(statusQuery)).tradingState).toBeNull();
    const portfolio = await h.pool.query('SELECT trading_state FROM portfolios WHERE id = $1', [portfolioId]);
    expect(portfolio.rows[0].trading_state).toBe('ACTIVE');
    // Each Update takes only its own kind of scope, so nothing widens to the portfolio by mistake.
    expect(await updateRefusal(handle.executeUpdate(setTradingStateUpdate, { args: [halt] }))).toMatch(/setScopedTradingState/);
    expect(
      await updateRefusal(
        handle.executeUpdate(setScopedTradingStateUpdate, { args: [{ state: 'HALTED', operator: 'olga', reason: 'x' }] }),
      ),
    ).toMatch(/needs a scope/);
    expect(
      await updateRefusal(
        handle.executeUpdate(setScopedTradingStateUpdate, { args: [{ ...halt, scope: { kind: 'desk' as never, name: 'x' } }] }),
      ),
    ).toMatch(/scope.kind must be one of portfolio, strategy, instrument/);
    expect(await updateRefusal(handle.executeUpdate(setScopedTradingStateUpdate, { args: [{ ...halt, operator: '' }] }))).toMatch(
      /operator and reason are required/,
    );
    await handle.terminate('test done');
  }, 90_000);

  it('keeps its state across continue-as-new', async () => {
    const { handle, pending } = await startGuardedLoop({ cyclesPerRun: 3 });
    const firstRun = (await handle.describe()).runId;
    await handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'alice', reason: 'ok' }] });
    const later = await eventually(
      async () => {
        const d = await handle.describe();
        const s = await handle.query<LoopStatus>(statusQuery);
        return d.runId !== firstRun && s.cycle >= 7 ? s : undefined;
      },
      30_000,
      'continue-as-new',
    );
    expect(later.budgetVersion).toBe(1);
    expect(later.regime).not.toBeNull();
    expect(later.regimeChanges.length).toBeGreaterThanOrEqual(1);
    // The decided recommendation is remembered across runs: approving it again is refused.
    expect(
      await updateRefusal(handle.executeUpdate(approveUpdate, { args: [{ recommendationId: pending.id, approver: 'x', reason: 'y' }] })),
    ).toMatch(/already COMMITTED/);
    await handle.terminate('test done');
  }, 90_000);

  it('runs a manual rebalance started from the temporal CLI; a second one for the portfolio is refused while it runs', async () => {
    const portfolioId = uniqueId('manual');
    await h.feeds.ensureFeed({ id: portfolioId, seed: 9, assets: TEST_ASSETS, barMs: 500, historyBars: 300 });
    await h.store.ensurePortfolio(portfolioId);
    const cli = await ensureTemporalCli(pino({ level: 'silent' }));
    const workflowId = manualRebalanceWorkflowId(portfolioId);
    const input = JSON.stringify({
      portfolioId,
      requestedBy: 'erin',
      reason: 'month end',
      marketData: { kind: 'synthetic', feedId: portfolioId },
    });
    const started = spawnSync(
      cli,
      [
        'workflow',
        'start',
        '--address',
        testEnv().temporalAddress,
        '--type',
        'manualRebalance',
        '--task-queue',
        h.taskQueue,
        '--workflow-id',
        workflowId,
        '--input',
        input,
      ],
      { encoding: 'utf8' },
    );
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);

    const handle = h.client.workflow.getHandle(workflowId);
    // No budget yet, so the fresh one adds risk and waits for approval; meanwhile a second start is refused.
    const pending = await eventually(
      async () => (await handle.query<Recommendation | null>('pendingRecommendation')) ?? undefined,
      20_000,
      'the manual recommendation',
    );
    await expect(
      h.client.workflow.start(manualRebalance, {
        taskQueue: h.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [{ portfolioId, requestedBy: 'frank', reason: 'dup' }],
      }),
    ).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
    await handle.signal(approveSignal, { recommendationId: pending.id, approver: 'cro', reason: 'fine' });
    const result = (await handle.result()) as ManualRebalanceResult;
    expect(result).toEqual({ outcome: 'COMMITTED', recommendationId: pending.id, version: 1 });
    expect(await h.store.countVersions(portfolioId)).toBe(1);
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.eventType === proto.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)).toBe(true);
  }, 90_000);
});
