/**
 * A loop on a price file where one asset's exchange has holidays the others do not (two in its first
 * window) commits its budget, runs every cycle through, and declares, bar by bar as the file grows, the regime the backtest
 * declares on the same file. Before, it failed every cycle on the holidays ("need 21 returns for the
 * volatility window, have 20") and never got a budget. (Late listings and halts: test/unit/backtest/regimes.)
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegimeIndex, RuleRegimes } from '../../../backtest/regimes';
import type { MarketCursor } from '../../../backtest/simulator';
import { readPriceFile } from '../../../market/csvPrices';
import { parseRiskConfig } from '../../../risk/config';
import { type PriceTable, sliceTable } from '../../../risk/timeseries';
import { portfolioLoop } from '../../../workflows';
import { statusQuery } from '../../../workflows/messages';
import { loopWorkflowId } from '../../../workflows/types';
import { eventually, uniqueId } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

const SP500 = join(__dirname, '../../../../shared/data/skfolio/sp500_dataset.csv.gz');

/** Mid-2008 on (the crash inside); KO's exchange is closed two days in every 30, from row 5 on. */
function prices(): PriceTable {
  const t = sliceTable(readPriceFile(SP500), { start: '2008-06-02', end: '2009-01-30', assets: ['AAPL', 'JNJ', 'KO', 'XOM'] });
  const ko = t.series[2];
  for (let r = 5; r < t.dates.length; r += 30) ko[r] = ko[r + 1] = Number.NaN;
  return t;
}

/** Replaces the file atomically (write, then rename), as a feed must: a reader never sees half a row. */
function writeRows(path: string, t: PriceTable, rows: number): void {
  const lines = [['date', ...t.assets].join(',')];
  for (let r = 0; r < rows; r++) lines.push([t.dates[r], ...t.series.map((s) => (Number.isFinite(s[r]) ? String(s[r]) : ''))].join(','));
  writeFileSync(`${path}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
}

describe('a loop on assets with different calendars', () => {
  const h = useLoopHarness('calendars');

  it('commits a budget and declares the backtest’s regime on every bar it reaches', async () => {
    const table = prices();
    const config = parseRiskConfig({});
    // The backtest's regime on each day of the whole file.
    const backtest = new RuleRegimes(new RegimeIndex(table.assets, undefined), config);
    const expected = table.dates.map((_, today) => backtest.read({ table, today } as MarketCursor).regime);

    const path = join(mkdtempSync(join(tmpdir(), 'ballast-calendars-')), 'prices.csv');
    const firstRows = config.regimeDetection.volWindow + 1; // the first bar the rule can read, as in the backtest
    writeRows(path, table, firstRows);
    const portfolioId = uniqueId('cal');
    const handle = await h.client.workflow.start(portfolioLoop, {
      taskQueue: h.taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'csv', path }, monitoringIntervalMs: 200 }],
    });
    const first = await eventually(async () => h.store.latestBudget(portfolioId), 30_000, 'the first budget');
    expect(first.budget.regime).toBe(expected[firstRows - 1]);

    const seen: string[] = [];
    // The file grows by 25 rows at a time; the loop catches up bar by bar.
    const sizes = [firstRows];
    while (sizes[sizes.length - 1] < table.dates.length) sizes.push(Math.min(sizes[sizes.length - 1] + 25, table.dates.length));
    for (const rows of sizes) {
      if (rows > firstRows) writeRows(path, table, rows);
      const last = rows - 1;
      const status = await eventually(
        async () => {
          const s = await handle.query(statusQuery);
          return s.regimeReading?.bar === last ? s : undefined; // the cycle has read (and tracked) the new last bar
        },
        20_000,
        `the loop at ${table.dates[last]}`,
      );
      expect(status.lastError).toBeNull();
      expect([table.dates[last], status.regime]).toEqual([table.dates[last], expected[last]]);
      seen.push(status.regime as string);
    }
    expect(new Set(seen).size).toBeGreaterThan(1); // the file spans regime changes (autumn 2008)
    // Every cycle ran through (no failure alert), and the regime changes were answered with proposals.
    const alerts = await h.pool.query<{ kind: string }>('SELECT kind FROM alerts WHERE portfolio_id = $1', [portfolioId]);
    expect(alerts.rows.filter((a) => a.kind === 'cycle-failed' || a.kind === 'bad-input')).toEqual([]);
    const recommendations = await h.pool.query('SELECT id FROM recommendations WHERE portfolio_id = $1', [portfolioId]);
    expect(recommendations.rowCount).toBeGreaterThan(1);
    await handle.terminate('test done');
  }, 120_000);
});
