/** `ballast backtest`: the result JSON on stdout (as the README promises), the human table on stderr. */
import { UsageError } from '../../../../cli/flags';
import { runCli } from '../../../support/cli';
import { writePriceCsv } from '../../../support/prices';

const prices = writePriceCsv({ days: 900, assets: ['A', 'B', 'C'] });

describe('ballast backtest', () => {
  it('prints the result document on stdout and the summary table on stderr', async () => {
    const argv = ['backtest', '--prices', prices, '--rebalance', 'calendar', '--regime', 'rule', '--cost-bps', '2', '--no-progress'];
    const { stdout, stderr } = await runCli(argv);
    const result = JSON.parse(stdout);
    expect(result.command).toBe(`ballast backtest --prices ${prices} --cost-bps 2 --rebalance calendar --regime rule --no-progress`);
    expect(result.data).toMatchObject({ assets: ['A', 'B', 'C'], rows: 900 });
    expect(result.settings).toMatchObject({ costBps: 2, rebalance: 'calendar', regimeDetector: 'rule', calendarPeriod: 'monthly' });
    expect(Object.keys(result.strategies)).toContain('dynamic');
    expect(stdout).not.toMatch(/max-drawdown reduction vs/);
    expect(stderr).toMatch(/dynamic max-drawdown reduction vs: equal-weight/);
  });

  it.each([
    [['--rebalance', 'weekly'], /--rebalance must be one of trigger, calendar, got "weekly"/],
    [['--refit-window', 'rolling:x'], /--refit-window must be "expanding" or "rolling:DAYS"/],
    [['--cost-bps', '-1'], /--cost-bps must be a number >= 0/],
    [['--oos-start', '2020'], /--oos-start must be a date YYYY-MM-DD/],
    [['--config', '/no/such.yaml'], /cannot read --config \/no\/such.yaml: ENOENT/],
  ])('rejects %j with a usage error', async (argv, message) => {
    const err = await runCli(['backtest', '--prices', prices, ...argv]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it('needs --prices', async () => {
    await expect(runCli(['backtest', '--rebalance', 'calendar'])).rejects.toThrow(/required option '--prices <file>'/);
  });
});
