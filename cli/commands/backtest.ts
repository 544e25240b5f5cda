/**
 * `ballast backtest --prices FILE [...]`: walk-forward replay of daily prices through the production
 * risk engine, side by side with static baselines. Stdout: the result as JSON (the document written to
 * DIR/result.json); stderr: progress and the summary table; with --out DIR also report.md and SVG charts.
 */
import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { type BacktestSettings, runBacktest } from '../../backtest/run';
import { type ReportMeta, resultJson, summaryTable, writeOutputs } from '../../backtest/report';
import { CALENDAR_PERIODS, type CalendarPeriod } from '../../backtest/schedule';
import { productionTriggerCheck } from '../../backtest/triggers';
import { readPriceFile } from '../../market/csvPrices';
import { type RiskConfig, defaultRiskConfig, loadRiskConfigText } from '../../risk/config';
import { sliceTable } from '../../risk/timeseries';
import { fraction, periodsPerYear } from '../../risk/units';
import {
  type Check,
  InvalidValue,
  UsageError,
  commandLine,
  isoDate,
  nonNegativeNumber,
  number,
  oneOf,
  option,
  positiveInteger,
} from '../flags';
import { printJson } from '../output';

interface BacktestFlags {
  readonly prices: string;
  readonly start?: string;
  readonly end?: string;
  readonly config?: string;
  readonly out?: string;
  readonly costBps?: number;
  readonly cashRate: number;
  readonly rebalance: BacktestSettings['rebalance'];
  readonly calendar: CalendarPeriod;
  readonly periodsPerYear?: number;
  readonly regime: BacktestSettings['regimeDetector'];
  readonly regimeIndex?: string;
  readonly refitYears: number;
  readonly refitWindow: string;
  readonly hmmRestarts: number;
  readonly oosStart?: string;
  readonly progress: boolean;
}

/** "expanding" or "rolling:DAYS"; kept as text so the recorded command line repeats it. */
const refitWindowText: Check<string> = (text) => {
  if (text !== 'expanding' && !(/^rolling:\d+$/.test(text) && Number(text.slice(8)) >= 2))
    throw new InvalidValue('must be "expanding" or "rolling:DAYS" (DAYS >= 2)');
  return text;
};

export function define(command: Command): void {
  command
    .description(
      'Walk-forward backtest: replay daily prices through the production risk engine (regime detection refitted ' +
        'as it goes, triggers, vol targeting) beside static baselines (equal weight, static ERC, ERC scaled to the ' +
        'same vol, vol target only). Prints the result as JSON on stdout (the document of result.json: settings, ' +
        'metrics per strategy for the full and the out-of-sample period, drawdown reductions, definitions); progress ' +
        'and a summary table on stderr. With --out DIR also writes result.json, report.md and four SVG charts.',
    )
    .requiredOption('--prices <file>', 'daily prices: CSV (, or ;), optionally gzipped, first column the date')
    .addOption(
      option(
        '--start <date>',
        'first evaluation date, YYYY-MM-DD; earlier prices are warm-up only (default: as soon as the lookback allows)',
        isoDate,
      ),
    )
    .addOption(option('--end <date>', 'last price date used, YYYY-MM-DD (default: the last in the file)', isoDate))
    .option(
      '--config <file>',
      'risk policy YAML (risk_budgeting: …) (default: the built-in defaults; every key is documented in config/ballast.example.yaml)',
    )
    .option('--out <dir>', 'also write result.json, report.md and SVG charts into this folder')
    .addOption(
      option(
        '--cost-bps <bps>',
        "trading cost per unit traded, in basis points (default: the config's costs.transaction_bps)",
        nonNegativeNumber,
      ),
    )
    .addOption(option('--cash-rate <rate>', 'annual return of the cash leg, as a fraction', number).default(0.02))
    .addOption(
      option(
        '--rebalance <when>',
        'when the engine books recompute: trigger (production triggers) or calendar',
        oneOf(['trigger', 'calendar'] as const),
      ).default('trigger'),
    )
    .addOption(
      option(
        '--calendar <period>',
        `period of calendar rebalancing and of the static books: ${CALENDAR_PERIODS.join(', ')}`,
        oneOf(CALENDAR_PERIODS),
      ).default('monthly'),
    )
    .addOption(option('--periods-per-year <n>', "annualization factor (default: the config's periods_per_year)", positiveInteger))
    .addOption(
      option(
        '--regime <detector>',
        'regime detector: hmm (walk-forward Gaussian HMM) or rule (volatility rule)',
        oneOf(['hmm', 'rule'] as const),
      ).default('hmm'),
    )
    .option(
      '--regime-index <column>',
      "price column read as the regime index (default: the equal-weighted average of the universe's returns)",
    )
    .addOption(option('--refit-years <n>', 'refit the HMM every N calendar years', positiveInteger).default(1))
    .addOption(
      option('--refit-window <window>', 'HMM training window: expanding (all history) or rolling:DAYS', refitWindowText).default(
        'expanding',
      ),
    )
    .addOption(option('--hmm-restarts <n>', 'EM starts per HMM refit', positiveInteger).default(1))
    .addOption(
      option(
        '--oos-start <date>',
        'first date of the out-of-sample period, YYYY-MM-DD (default: the start of the year 70 % into the window)',
        isoDate,
      ),
    )
    .option('--no-progress', 'no progress bar on stderr (there is none when stderr is not a terminal)')
    .action(backtest);
}

async function backtest(flags: BacktestFlags, command: Command): Promise<void> {
  const table = sliceTable(readPriceFile(flags.prices), { end: flags.end });
  const settings = buildSettings(flags, loadConfig(flags));
  const started = Date.now();
  const bar = flags.progress && process.stderr.isTTY ? progressBar() : undefined;
  const result = runBacktest(table, { ...settings, onProgress: bar?.update });
  bar?.stop();
  const elapsedSeconds = (Date.now() - started) / 1000;
  process.stderr.write(`backtest: ${table.dates.length} days × ${table.assets.length} assets in ${elapsedSeconds.toFixed(1)} s\n`);
  process.stderr.write(summaryTable(result));

  const meta: ReportMeta = { command: commandLine(command), pricesPath: flags.prices, table, settings, elapsedSeconds };
  if (flags.out) {
    const files = await writeOutputs(flags.out, result, meta);
    process.stderr.write(`wrote ${files.join(', ')}\n`);
  }
  await printJson(resultJson(result, meta));
}

function loadConfig(flags: BacktestFlags): RiskConfig {
  let config = defaultRiskConfig();
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --config ${flags.config}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    config = loadRiskConfigText(text);
  }
  return flags.periodsPerYear === undefined ? config : { ...config, periodsPerYear: periodsPerYear(flags.periodsPerYear) };
}

function buildSettings(flags: BacktestFlags, config: RiskConfig): Omit<BacktestSettings, 'onProgress'> {
  return {
    config,
    costBps: flags.costBps ?? config.transactionCostBps,
    cashRate: fraction(flags.cashRate),
    periodsPerYear: config.periodsPerYear,
    rebalance: flags.rebalance,
    calendarPeriod: flags.calendar,
    regimeDetector: flags.regime,
    regimeIndex: flags.regimeIndex,
    hmm: {
      refitYears: flags.refitYears,
      window: flags.refitWindow === 'expanding' ? { kind: 'expanding' } : { kind: 'rolling', days: Number(flags.refitWindow.slice(8)) },
      minTrainingDays: 2 * config.periodsPerYear,
      restarts: flags.hmmRestarts,
      maxIterations: 200,
      tolerance: 1e-4,
      seed: config.regimeDetection.seed,
    },
    triggerCheck: productionTriggerCheck,
    start: flags.start,
    outOfSampleStart: flags.oosStart,
  };
}

/** A progress bar on stderr, redrawn every 500 strategy-days: drawing per day would cost more than a simulation step. */
function progressBar(): { update: NonNullable<BacktestSettings['onProgress']>; stop(): void } {
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'backtest [{bar}] {percentage}% | {value}/{total} strategy-days | ETA {eta}s',
  });
  let lastShown = -1;
  return {
    update(done, total) {
      if (lastShown < 0) bar.start(total, 0);
      if (lastShown < 0 || done - lastShown >= 500 || done === total) {
        bar.update(done);
        lastShown = done;
      }
    },
    stop: () => lastShown >= 0 && bar.stop(),
  };
}
