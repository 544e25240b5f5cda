/**
 * Issue 15 capability 5: the dynamic book with and without the gate's risk checks on its own
 * rebalancing orders (backtest/gatedComparison.ts), on the 20 S&P 500 stocks (skfolio, 1990–2022),
 * two strategies of the example config, monthly calendar rebalancing, rule regimes, 5 bp, cash 2 %.
 * Run twice: the default gate settings (vol limit 1.25 × max(target, forecast), tolerance 10 points)
 * and tight ones (vol limit at the forecast, no tolerance), where the checks bind.
 *
 * Not a speed benchmark: a reproducible evidence run, kept next to the risk-check bench so that
 * `npm run bench -- riskChecks` produces every figure of docs/backtest/risk-checks.md.
 */
import { runGatedComparison, GATED_BOOKS } from '../backtest/gatedComparison';
import { sharedDataFile } from '../lib/paths';
import { readPriceFile } from '../market/csvPrices';
import { parseRiskConfig } from '../risk/config';
import { fraction, periodsPerYear } from '../risk/units';

const STRATEGIES = [
  { name: 'defensive', budget: 0.5, assets: ['JNJ', 'KO', 'PG', 'PEP', 'WMT'] },
  { name: 'cyclical', budget: 0.5, assets: ['AAPL', 'JPM', 'XOM', 'HD', 'CVX'] },
];

export function run(): Promise<void> {
  const table = readPriceFile(sharedDataFile('skfolio', 'sp500_dataset.csv.gz'));
  for (const gate of [
    { vol_limit_multiple: 1.25, risk_budget_tolerance: 0.1 },
    { vol_limit_multiple: 1.0, risk_budget_tolerance: 0 },
  ]) {
    const config = parseRiskConfig({ risk_budgeting: { strategies: STRATEGIES, gate } });
    const started = Date.now();
    const r = runGatedComparison(table, {
      config,
      costBps: 5,
      cashRate: fraction(0.02),
      periodsPerYear: periodsPerYear(252),
      calendarPeriod: 'monthly',
      firstDecisionDay: config.lookbackDays + 1,
    });
    console.log(
      `\ngate: vol_limit_multiple ${gate.vol_limit_multiple}, risk_budget_tolerance ${gate.risk_budget_tolerance} (${table.dates[config.lookbackDays + 1]} → ${table.dates[table.dates.length - 1]}, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    console.log(
      '| book | max drawdown | turnover/yr | vol | CAGR | Sharpe | orders | cut short (reason: count) | untraded (× capital, total) | max ex-ante vol / limit |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---|---:|---:|');
    for (const book of GATED_BOOKS) {
      const m = r.metrics[book];
      const g = book === 'ungated' ? undefined : r.gate[book];
      const limited = g
        ? Object.entries(g.limited)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ') || '—'
        : '—';
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      console.log(
        `| ${book} | ${pct(m.maxDrawdown)} | ${m.turnoverAnnual.toFixed(2)} | ${pct(m.volAnnual)} | ${pct(m.cagr)} | ${m.sharpe.toFixed(2)} | ${g?.orders ?? '—'} | ${limited} | ${g ? g.untradedNotional.toFixed(2) : '—'} | ${g && g.maxVolToLimit > 0 ? g.maxVolToLimit.toFixed(3) : '—'} |`,
      );
    }
  }
  return Promise.resolve();
}
