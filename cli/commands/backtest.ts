/**
 * `ballast backtest --prices FILE [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--config FILE] [--out DIR] ...`
 * Walk-forward replay of daily prices through the production risk engine, side by side with static
 * baselines. Progress on stderr; the summary table on stdout; result.json, report.md and SVG charts in DIR.
 */
import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { type RiskConfig, defaultRiskConfig, loadRiskConfigText } from '../../risk/config';
import { sliceTable } from '../../risk/timeseries';
import { fraction, periodsPerYear } from '../../risk/units';
import { readPriceFile } from '../../market/csvPrices';
import { runBacktest, type BacktestSettings } from '../../backtest/run';
import { productionTriggerCheck } from '../../backtest/triggers';
import { CALENDAR_PERIODS, type CalendarPeriod } from '../../backtest/schedule';
import { summaryTable, writeOutputs } from '../../backtest/report';
import { isoDateFlag, parseFlags, requireFlag } from '../args';
import { UsageError } from '../main';

export const summary = 'walk-forward backtest of the dynamic budget vs static baselines (JSON, Markdown, SVG charts)';

const FLAGS = {
  prices: 'string',
  start: 'string',
  end: 'string',
  config: 'string',
  out: 'string',
  'cost-bps': 'string',
  'cash-rate': 'string',
  rebalance: 'string',
  calendar: 'string',
  'periods-per-year': 'string',
  regime: 'string',
  'regime-index': 'string',
  'refit-years': 'string',
  'refit-window': 'string',
  'hmm-restarts': 'string',
  'oos-start': 'string',
  'no-progress': 'boolean',
} as const;

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}"`);
  const pricesPath = requireFlag(flags.prices, 'prices');
  const end = isoDateFlag(flags.end, 'end');
  const table = sliceTable(readPriceFile(pricesPath), { end });
  const config = withPeriods(loadConfig(flags.config), flags['periods-per-year']);
  const settings = buildSettings(flags, config);

  const bar =
    flags['no-progress'] || !process.stderr.isTTY
      ? undefined
      : new SingleBar({ stream: process.stderr, format: 'backtest [{bar}] {percentage}% | {value}/{total} strategy-days | ETA {eta}s' });
  let lastShown = -1;
  const started = Date.now();
  const result = runBacktest(table, {
    ...settings,
    onProgress: (done, total) => {
      if (!bar) return;
      if (lastShown < 0) {
        bar.start(total, 0);
        lastShown = 0;
      }
      // Redraw every 500 strategy-days: drawing per day would cost more than the simulation step.
      if (done - lastShown >= 500 || done === total) {
        bar.update(done);
        lastShown = done;
      }
    },
  });
  bar?.stop();
  const elapsed = (Date.now() - started) / 1000;
  process.stderr.write(`backtest: ${table.dates.length} days × ${table.assets.length} assets in ${elapsed.toFixed(1)} s\n`);

  const command = ['ballast', 'backtest', ...argv].map(shellQuote).join(' ');
  process.stdout.write(summaryTable(result));
  if (flags.out) {
    const files = await writeOutputs(flags.out, result, { command, pricesPath, table, settings, elapsedSeconds: elapsed });
    process.stderr.write(`wrote ${files.join(', ')}\n`);
  }
  return 0;
}

function loadConfig(path: string | undefined): RiskConfig {
  if (path === undefined) return defaultRiskConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return loadRiskConfigText(text);
}

function withPeriods(config: RiskConfig, flag: string | undefined): RiskConfig {
  if (flag === undefined) return config;
  return { ...config, periodsPerYear: periodsPerYear(positiveInt(flag, 'periods-per-year')) };
}

type Flags = ReturnType<typeof parseFlags<typeof FLAGS>>;

function buildSettings(flags: Flags, config: RiskConfig): Omit<BacktestSettings, 'onProgress'> {
  const rebalance = oneOf(flags.rebalance ?? 'trigger', ['calendar', 'trigger'] as const, 'rebalance');
  return {
    config,
    costBps: nonNegative(flags['cost-bps'] ?? String(config.transactionCostBps), 'cost-bps'),
    cashRate: fraction(finite(flags['cash-rate'] ?? '0.02', 'cash-rate')),
    periodsPerYear: config.periodsPerYear,
    rebalance,
    calendarPeriod: oneOf(flags.calendar ?? 'monthly', CALENDAR_PERIODS, 'calendar') as CalendarPeriod,
    regimeDetector: oneOf(flags.regime ?? 'hmm', ['hmm', 'rule'] as const, 'regime'),
    regimeIndex: flags['regime-index'],
    hmm: {
      refitYears: positiveInt(flags['refit-years'] ?? '1', 'refit-years'),
      window: refitWindow(flags['refit-window'] ?? 'expanding'),
      minTrainingDays: 2 * config.periodsPerYear,
      restarts: positiveInt(flags['hmm-restarts'] ?? '1', 'hmm-restarts'),
      maxIterations: 200,
      tolerance: 1e-4,
      seed: config.regimeDetection.seed,
    },
    triggerCheck: productionTriggerCheck,
    start: isoDateFlag(flags.start, 'start'),
    outOfSampleStart: isoDateFlag(flags['oos-start'], 'oos-start'),
  };
}

function refitWindow(value: string): BacktestSettings['hmm']['window'] {
  if (value === 'expanding') return { kind: 'expanding' };
  const m = /^rolling:(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 2) throw new UsageError(`--refit-window must be "expanding" or "rolling:DAYS", got "${value}"`);
  return { kind: 'rolling', days: Number(m[1]) };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function finite(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return x;
}

function nonNegative(value: string, name: string): number {
  const x = finite(value, name);
  if (x < 0) throw new UsageError(`--${name} must be >= 0, got ${x}`);
  return x;
}

function positiveInt(value: string, name: string): number {
  const x = finite(value, name);
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return x;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
