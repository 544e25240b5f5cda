/**
 * Backtest throughput on the full S&P 500 20-stock history (1990–2022, 8313 days): wall time of one
 * complete run (five strategies, three vol-matching passes) with trigger rebalancing and the walk-forward
 * HMM (the production default), against two same-run baselines: calendar rebalancing (no daily trigger
 * measurements) and the rule classifier (no HMM fits).
 */
import { runBacktest, type BacktestSettings } from '../backtest/run';
import { productionTriggerCheck } from '../backtest/triggers';
import { sharedDataFile } from '../lib/paths';
import { readPriceFile } from '../market/csvPrices';
import { defaultRiskConfig } from '../risk/config';
import { fraction, periodsPerYear } from '../risk/units';

export async function run(): Promise<void> {
  const file = sharedDataFile('skfolio', 'sp500_dataset.csv.gz');
  const table = readPriceFile(file);
  const config = defaultRiskConfig();
  const base: BacktestSettings = {
    config,
    costBps: 5,
    cashRate: fraction(0.02),
    periodsPerYear: periodsPerYear(252),
    rebalance: 'trigger',
    triggerCheck: productionTriggerCheck,
    calendarPeriod: 'monthly',
    regimeDetector: 'hmm',
    hmm: { refitYears: 1, window: { kind: 'expanding' }, minTrainingDays: 504, restarts: 1, maxIterations: 200, tolerance: 1e-4, seed: 1 },
  };
  const cases: [string, BacktestSettings][] = [
    ['trigger + HMM (default)', base],
    ['calendar + HMM', { ...base, rebalance: 'calendar' }],
    ['trigger + rule', { ...base, regimeDetector: 'rule' }],
  ];
  const times = new Map<string, number>();
  console.log(`backtest bench: ${table.dates.length} days × ${table.assets.length} assets`);
  for (const [name, settings] of cases) {
    const started = process.hrtime.bigint();
    const result = runBacktest(table, settings);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    times.set(name, seconds);
    const dyn = result.full.strategies.dynamic;
    console.log(
      `  ${name.padEnd(24)} ${seconds.toFixed(1).padStart(6)} s  ${Math.round((table.dates.length * 7) / seconds)} strategy-days/s  ` +
        `budgets ${result.dynamic.budgetsComputed}, HMM refits ${result.hmmRefits.length}, dynamic max DD ${(dyn.maxDrawdown * 100).toFixed(1)}%`,
    );
  }
  const main = times.get('trigger + HMM (default)')!;
  console.log(
    `  ratio default / calendar+HMM: ${(main / times.get('calendar + HMM')!).toFixed(2)}×; default / trigger+rule: ${(main / times.get('trigger + rule')!).toFixed(2)}×`,
  );
}
