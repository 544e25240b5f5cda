/**
 * The desk commands against a real loop (real worker and activities, Temporal dev server, Postgres):
 * each sends the loop's validated Update, its effect lands where the gate reads it, a refusal by the
 * workflow is one line naming its type with exit code 2, and approve refuses the requester of a
 * risk-increasing manual rebalance (the same rule as the Temporal UI and the console).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../../workflows/messages';
import type { LoopStatus } from '../../../workflows/types';
import { mainCli, runCliJson } from '../../support/cli';
import { eventually, testEnv } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

jest.setTimeout(120_000);

describe('desk commands', () => {
  const h = useLoopHarness('desk');
  let portfolioId: string;
  let handle: WorkflowHandle;
  const previous = process.env.TEMPORAL_ADDRESS;

  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = testEnv().temporalAddress;
    ({ portfolioId, handle } = await h.startLoop({ prefix: 'desk', seed: 7 }));
    await eventually(
      async () => ((await handle.query<LoopStatus>(statusQuery)).budgetVersion ? true : undefined),
      60_000,
      'a first budget',
    );
  });
  afterAll(() => {
    process.env.TEMPORAL_ADDRESS = previous;
  });

  const tradingState = async () =>
    (
      await h.pool.query<{ trading_state: string; state_changed_by: string }>(
        'SELECT trading_state, state_changed_by FROM portfolios WHERE id = $1',
        [portfolioId],
      )
    ).rows[0];

  it('halts, makes reduce-only and resumes trading, each recorded with who and why, and shown in the status', async () => {
    const who = ['--portfolio', portfolioId, '--by', 'ops', '--reason', 'drill'];
    expect(await runCliJson(['halt', ...who])).toEqual({ state: 'HALTED' });
    expect(await tradingState()).toEqual({ trading_state: 'HALTED', state_changed_by: 'ops' });
    expect((await handle.query<LoopStatus>(statusQuery)).tradingState).toBe('HALTED');
    expect(await runCliJson(['reduce-only', ...who, '--scope', 'portfolio'])).toEqual({ state: 'REDUCING' });
    expect((await tradingState()).trading_state).toBe('REDUCING');
    expect(await runCliJson(['resume-trading', ...who])).toEqual({ state: 'ACTIVE' });
    expect((await tradingState()).trading_state).toBe('ACTIVE');
    const badScope = await mainCli(['halt', ...who, '--scope', 'desk']);
    expect(badScope).toMatchObject({ code: 2, stderr: expect.stringMatching(/--scope must be one of portfolio, strategy, instrument/) });
    expect(await mainCli(['halt', ...who, '--scope', 'strategy'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/needs --name/),
    });
    // A strategy's state: the portfolio's stays ACTIVE.
    expect(await runCliJson(['halt', ...who, '--scope', 'strategy', '--name', 'trend'])).toEqual({ state: 'HALTED' });
    const scoped = await h.pool.query(
      'SELECT scope_kind, scope_name, state, changed_by FROM scoped_trading_states WHERE portfolio_id = $1',
      [portfolioId],
    );
    expect(scoped.rows).toEqual([{ scope_kind: 'strategy', scope_name: 'trend', state: 'HALTED', changed_by: 'ops' }]);
    expect((await tradingState()).trading_state).toBe('ACTIVE');
  });

  it('overrides a limit with four eyes, and revokes it', async () => {
    const base = [
      '--portfolio',
      portfolioId,
      '--field',
      'maxGrossNotional',
      '--value',
      '2000000',
      '--reason',
      'client flow',
      '--expires',
      '2h',
    ];
    const own = await mainCli(['override', ...base, '--requested-by', 'dan', '--by', 'dan']);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/refused \(SeparationOfDuties\): dan requested this override and may not approve it/);
    const { overrideId } = await runCliJson<{ overrideId: number }>(['override', ...base, '--requested-by', 'dan', '--by', 'cro']);
    const row = await h.pool.query('SELECT requested_by, approver, revoked_at FROM limit_overrides WHERE id = $1', [overrideId]);
    expect(row.rows[0]).toEqual({ requested_by: 'dan', approver: 'cro', revoked_at: null });
    const revoke = ['revoke', '--portfolio', portfolioId, '--override', String(overrideId), '--by', 'cro', '--reason', 'flow done'];
    expect(await runCliJson(revoke)).toEqual({ revoked: true });
    expect((await h.pool.query('SELECT revoked_at FROM limit_overrides WHERE id = $1', [overrideId])).rows[0].revoked_at).toBeInstanceOf(
      Date,
    );
    const again = await mainCli(revoke);
    expect(again).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/refused \(InvalidRequest\): override \d+ of portfolio .* is not active/),
    });
  });

  it('pauses and resumes the loop', async () => {
    const who = ['--portfolio', portfolioId, '--by', 'ops', '--reason', 'maintenance'];
    expect(await runCliJson(['pause', ...who])).toEqual({ paused: true });
    expect((await handle.query<LoopStatus>(statusQuery)).paused).toBe(true);
    expect(await runCliJson(['resume', ...who])).toEqual({ paused: false });
    const actions = await h.pool.query<{ action: string }>(
      'SELECT action FROM operator_actions WHERE portfolio_id = $1 ORDER BY created_at',
      [portfolioId],
    );
    expect(actions.rows.map((r) => r.action)).toEqual([
      'trading-state:HALTED',
      'trading-state:REDUCING',
      'trading-state:ACTIVE',
      'override',
      'override-revoked',
      'pause',
      'resume',
    ]);
    await handle.terminate('test done');
  });
});
