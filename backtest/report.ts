/**
 * Outputs of a backtest: the summary table (stdout), result.json, report.md and the SVG charts.
 * Numbers in JSON are raw fractions (0.12 = 12 %); the Markdown and the table show percents.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PriceTable } from '../risk/timeseries';
import { renderCharts } from './charts';
import type { StrategyMetrics } from './metrics';
import { type BacktestResult, type BacktestSettings, type PeriodResult, STATIC_BASELINES, STRATEGY_NAMES } from './run';

export interface ReportMeta {
  readonly command: string;
  readonly pricesPath: string;
  readonly table: PriceTable;
  readonly settings: Omit<BacktestSettings, 'onProgress'>;
  readonly elapsedSeconds: number;
}

export const DEFINITIONS = {
  returns:
    'daily simple returns of NAV, net of trading costs; decisions at the close of day t use prices up to t and trade at the close of t+1',
  cagr: '(NAV_end / NAV_start)^(365.25 / calendar days) - 1',
  volAnnual: 'sample stdev of daily returns x sqrt(periods per year)',
  sharpe: 'mean / stdev of daily returns in excess of the cash rate, x sqrt(periods per year)',
  sortino: 'mean daily excess return x P / (sqrt(mean(min(excess, 0)^2)) x sqrt(P))',
  maxDrawdown: 'most negative NAV / running peak - 1 (negative fraction); start = peak date, end = trough date',
  calmar: 'cagr / |maxDrawdown|',
  timeUnderWater: 'share of days with NAV below a previous peak',
  turnoverAnnual: 'sum of |traded weight| (buys + sells, fraction of NAV) per calendar year',
  costAnnual: 'trading costs paid per year, fraction of NAV (cost bps x traded notional)',
  avgGrossExposure: 'mean over days of sum |w_i| at the close (1 = fully invested, no leverage)',
  capitalEfficiency:
    'annualized mean excess return (over cash) / avgGrossExposure: excess return per unit of capital deployed in risky assets',
  returnPerRisk: 'annualized mean excess return / volAnnual',
  drawdownReduction: '1 - maxDrawdown(dynamic) / maxDrawdown(baseline): 0.30 = a 30 % shallower worst drawdown',
  capitalEfficiencyGain: 'capitalEfficiency(dynamic) / capitalEfficiency(baseline) - 1',
  responseTimesDays:
    'trading days from a named crisis start (index peak) to the first close at which the dynamic book holds a budget computed in the turbulent half of the regimes (bear/crisis); null = not within the crisis',
  regimeSwitches: 'changes of the declared regime (after hysteresis) during the evaluation window',
  volMatchScale:
    "constant multiplier on static-erc weights (rest in cash) that gives it the dynamic book's realized vol over the full window (ex post)",
} as const;

export function resultJson(result: BacktestResult, meta: ReportMeta): Record<string, unknown> {
  const { settings, table } = meta;
  const period = (p: PeriodResult) => ({
    start: p.start,
    end: p.end,
    strategies: p.strategies,
    drawdownReduction: p.drawdownReduction,
    capitalEfficiencyGain: p.capitalEfficiencyGain,
  });
  const strategies: Record<string, unknown> = { ...result.full.strategies };
  strategies.dynamic = {
    ...result.full.strategies.dynamic,
    regimeSwitches: result.dynamic.regimeSwitches,
    responseTimesDays: result.dynamic.responseTimesDays,
  };
  return {
    command: meta.command,
    data: {
      file: basename(meta.pricesPath),
      assets: table.assets,
      firstDate: table.dates[0],
      lastDate: table.dates[table.dates.length - 1],
      rows: table.dates.length,
    },
    settings: {
      costBps: settings.costBps,
      cashRate: settings.cashRate,
      periodsPerYear: settings.periodsPerYear,
      rebalance: settings.rebalance,
      calendarPeriod: settings.calendarPeriod,
      regimeDetector: settings.regimeDetector,
      regimeIndex: settings.regimeIndex ?? 'equal-weighted average of the universe',
      hmm: settings.regimeDetector === 'hmm' ? settings.hmm : undefined,
      lookbackDays: settings.config.lookbackDays,
      regimes: settings.config.regimes.map((r) => ({
        name: r.name,
        volTarget: r.volTarget,
        equityAllocation: r.equityAllocation,
        leverageLimit: r.leverageLimit,
        maxVol: r.maxVol,
      })),
      hysteresis: { threshold: settings.config.regimeDetection.threshold, minDwell: settings.config.regimeDetection.minDwell },
    },
    definitions: DEFINITIONS,
    evaluation: { start: result.full.start, end: result.full.end, outOfSampleStart: result.outOfSample.start },
    strategies,
    drawdownReduction: result.full.drawdownReduction,
    capitalEfficiencyGain: result.full.capitalEfficiencyGain,
    volMatchScale: result.volMatchScale,
    development: period(result.development),
    outOfSample: period(result.outOfSample),
    dynamic: {
      ...result.dynamic,
      hmmRefits: result.hmmRefits.map((r) => ({
        date: table.dates[r.day],
        observations: r.observations,
        stateVolsAnnual: r.stateVolsAnnual,
      })),
    },
    runtimeSeconds: Number(meta.elapsedSeconds.toFixed(2)),
  };
}

const pct = (x: number, digits = 1) => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a');
const num = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

const COLUMNS: readonly [string, (m: StrategyMetrics) => string][] = [
  ['CAGR', (m) => pct(m.cagr)],
  ['vol', (m) => pct(m.volAnnual)],
  ['Sharpe', (m) => num(m.sharpe)],
  ['Sortino', (m) => num(m.sortino)],
  ['max DD', (m) => pct(m.maxDrawdown)],
  ['DD peak→trough', (m) => `${m.maxDrawdownStart}→${m.maxDrawdownEnd}`],
  ['Calmar', (m) => num(m.calmar)],
  ['under water', (m) => pct(m.timeUnderWater, 0)],
  ['turnover/yr', (m) => num(m.turnoverAnnual)],
  ['cost/yr', (m) => pct(m.costAnnual, 2)],
  ['avg gross', (m) => num(m.avgGrossExposure)],
  ['cap. eff.', (m) => pct(m.capitalEfficiency)],
  ['ret/risk', (m) => num(m.returnPerRisk)],
];

/** Plain-text table for the terminal. */
export function summaryTable(result: BacktestResult): string {
  const header = ['strategy', ...COLUMNS.map(([h]) => h)];
  const rows = STRATEGY_NAMES.map((name) => [name, ...COLUMNS.map(([, f]) => f(result.full.strategies[name]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const reductions = STATIC_BASELINES.map((b) => `${b} ${pct(result.full.drawdownReduction[b])}`).join(', ');
  const efficiency = STATIC_BASELINES.map((b) => `${b} ${pct(result.full.capitalEfficiencyGain[b])}`).join(', ');
  return [
    `evaluation ${result.full.start} → ${result.full.end} (out-of-sample from ${result.outOfSample.start})`,
    line(header),
    ...rows.map(line),
    `dynamic max-drawdown reduction vs: ${reductions}`,
    `dynamic capital-efficiency gain vs: ${efficiency}`,
    `regime switches: ${result.dynamic.regimeSwitches}; response days: ${
      Object.entries(result.dynamic.responseTimesDays)
        .map(([k, v]) => `${k} ${v ?? 'never'}`)
        .join(', ') || 'no named crisis in window'
    }`,
    '',
  ].join('\n');
}

function markdownTable(period: PeriodResult): string {
  const header = `| strategy | ${COLUMNS.map(([h]) => h).join(' | ')} |`;
  const rule = `|---|${COLUMNS.map(() => '---:').join('|')}|`;
  const rows = STRATEGY_NAMES.map((name) => `| ${name} | ${COLUMNS.map(([, f]) => f(period.strategies[name])).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

function comparisonTable(period: PeriodResult): string {
  const rows = STATIC_BASELINES.map(
    (b) =>
      `| ${b} | ${pct(period.strategies[b].maxDrawdown)} | ${pct(period.strategies.dynamic.maxDrawdown)} | **${pct(period.drawdownReduction[b])}** | ${pct(period.strategies[b].capitalEfficiency)} | ${pct(period.strategies.dynamic.capitalEfficiency)} | **${pct(period.capitalEfficiencyGain[b])}** |`,
  );
  return [
    '| baseline | baseline max DD | dynamic max DD | drawdown reduction | baseline cap. eff. | dynamic cap. eff. | cap. eff. gain |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export function markdownReport(result: BacktestResult, meta: ReportMeta, charts: readonly { file: string; title: string }[]): string {
  const s = meta.settings;
  const responses = Object.entries(result.dynamic.responseTimesDays);
  const regimeDays = Object.entries(result.dynamic.regimeDays)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `# Backtest: ${basename(meta.pricesPath)}

Reproduce (from the repository root, after \`npx tsc -p tsconfig.json\`):

\`\`\`
${meta.command.replace(/^ballast /, 'node bin/ballast.js ')}
\`\`\`

Data: ${meta.table.assets.length} assets, ${meta.table.dates[0]} → ${meta.table.dates[meta.table.dates.length - 1]} (${meta.table.dates.length} rows).
Evaluation ${result.full.start} → ${result.full.end} (earlier rows are warm-up for the estimation window and the first HMM fit).
Costs ${s.costBps} bp per unit traded, cash rate ${pct(s.cashRate, 2)} a year (earned on cash, paid on borrowing),
${s.periodsPerYear} periods per year, engine rebalancing: ${s.rebalance}${s.rebalance === 'calendar' ? ` (${s.calendarPeriod})` : ''}, static books: ${s.calendarPeriod}.
Regime detection: ${s.regimeDetector === 'hmm' ? `Gaussian HMM with ${s.config.regimeDetection.states} states on daily log returns of the regime index, refitted every ${s.hmm.refitYears} year(s) on ${s.hmm.window.kind === 'expanding' ? 'all data before the refit date' : `the last ${(s.hmm.window as { days: number }).days} returns before the refit date`}, then filtered forward day by day (filtered probabilities only)` : 'rule classifier (realized vol vs max_vol)'}; hysteresis threshold ${s.config.regimeDetection.threshold}, min dwell ${s.config.regimeDetection.minDwell} days. Regime index: ${s.regimeIndex ?? 'equal-weighted average return of the universe'}.
Run time ${meta.elapsedSeconds.toFixed(1)} s.

Strategies (all decide at a close from data up to it, trade at the next close, share one universe and one start day):
- **equal-weight**: 1/n of NAV per eligible asset, fully invested, rebalanced ${s.calendarPeriod}.
- **static-erc**: equal risk contribution (production solver, ${s.config.covariance.estimator} covariance), fully invested, rebalanced ${s.calendarPeriod}.
- **static-erc-vol-matched**: static-erc × ${num(result.volMatchScale, 3)}, the rest in cash, so its realized vol equals the dynamic book's (scale chosen ex post).
- **vol-target**: the production engine with one regime (the calmest, "${s.config.regimes[0].name}": vol target ${pct(s.config.regimes[0].volTarget, 0)}), no regime detection.
- **dynamic**: the production engine with the walk-forward regime, rebalanced by ${s.rebalance === 'trigger' ? 'the production triggers' : `the calendar (${s.calendarPeriod})`}.

## Headline (full evaluation window)

${comparisonTable(result.full)}

${markdownTable(result.full)}

The vol-matched book takes the same risk as the dynamic one with a different timing of it: the fair comparison for drawdowns.

## Development period (${result.development.start} → ${result.development.end})

${comparisonTable(result.development)}

${markdownTable(result.development)}

## Out-of-sample period (${result.outOfSample.start} → ${result.outOfSample.end})

${comparisonTable(result.outOfSample)}

${markdownTable(result.outOfSample)}

## Regimes

Regime switches: ${result.dynamic.regimeSwitches}. Days per declared regime: ${regimeDays}. Budgets computed: ${result.dynamic.budgetsComputed}
(${Object.entries(result.dynamic.rebalanceReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}).
A response time of 0 means the book was already de-risked when the crisis began.

${responses.length === 0 ? 'No named crisis starts inside the evaluation window.' : ['| crisis (index peak → trough) | days to de-risked budget |', '|---|---:|', ...responses.map(([name, days]) => `| ${name} | ${days ?? 'not within the crisis'} |`)].join('\n')}
${result.hmmRefits.length > 0 ? `\nHMM refits: ${result.hmmRefits.length} (first ${meta.table.dates[result.hmmRefits[0].day]}, ${result.hmmRefits[0].observations} training returns).\n` : ''}
## Charts

${charts.map((c) => `![${c.title}](${c.file})`).join('\n\n')}

## Definitions

${Object.entries(DEFINITIONS)
  .map(([k, v]) => `- **${k}**: ${v}`)
  .join('\n')}
`;
}

/** Writes result.json, report.md and the charts into `dir`; returns the written paths. */
export async function writeOutputs(dir: string, result: BacktestResult, meta: ReportMeta): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const charts = await renderCharts(result, meta.table.dates, basename(meta.pricesPath));
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  write('result.json', `${JSON.stringify(resultJson(result, meta), null, 2)}\n`);
  write('report.md', markdownReport(result, meta, charts));
  for (const chart of charts) write(chart.file, chart.svg);
  return files;
}
