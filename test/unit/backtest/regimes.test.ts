/**
 * The backtest reads regimes exactly as the live loop does. Same price file (real prices with one
 * asset's exchange holidays, a halt and a late listing), same config → the loop's regime reading
 * (the `assessRegime` activity, stepped through the tracker its workflow runs, bar by bar or catching
 * up several bars per cycle) and the backtest's regime source declare the same regime on every bar.
 * Before, the two built the index differently, the loop hysteresis ran on regime probabilities and the
 * backtest's on HMM state probabilities, and the loop stalled on the holidays.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { readActivities } from '../../../activities/reads';
import type { FeedStore } from '../../../db/stores/marketFeeds';
import { readPriceFile } from '../../../market/csvPrices';
import { MarketDataService } from '../../../market/source';
import { DEFAULT_CONFIG_DOCUMENT, parseRiskConfig } from '../../../risk/config';
import { minimumTrainingReturns } from '../../../risk/regime/walkForward';
import { type RegimeTrack, trackRegime } from '../../../risk/regime/tracker';
import { type PriceTable, sliceTable } from '../../../risk/timeseries';
import { RegimeIndex, RuleRegimes, WalkForwardHmm } from '../../../backtest/regimes';
import type { MarketCursor } from '../../../backtest/simulator';
import type { RegimeSource } from '../../../backtest/strategies';

jest.setTimeout(120_000);

const SP500 = join(__dirname, '../../../../shared/data/skfolio/sp500_dataset.csv.gz');

/** 2006–2009 (the GFC inside) for four stocks; KO misses two days every 40 rows, JNJ halts 8 rows, XOM lists late. */
function pricesWithCalendars(): PriceTable {
  const t = sliceTable(readPriceFile(SP500), { start: '2006-07-01', end: '2009-09-30', assets: ['AAPL', 'JNJ', 'KO', 'XOM'] });
  const [, jnj, ko, xom] = t.series;
  for (let r = 30; r < t.dates.length; r += 40) ko[r] = ko[r + 1] = Number.NaN;
  for (let r = 500; r < 508; r++) jnj[r] = Number.NaN;
  for (let r = 0; r < 120; r++) xom[r] = Number.NaN;
  return t;
}

function writeCsv(t: PriceTable): string {
  const lines = [['date', ...t.assets].join(',')];
  t.dates.forEach((d, r) => lines.push([d, ...t.series.map((s) => (Number.isFinite(s[r]) ? String(s[r]) : ''))].join(',')));
  const path = join(mkdtempSync(join(tmpdir(), 'ballast-regimes-')), 'prices.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const table = pricesWithCalendars();
const path = writeCsv(table);
const rows = table.dates.length;

/** The loop: the read activity, then the workflow's tracker over the returned readings; every `stride` bars. */
async function loopRegimes(document: unknown, firstBar: number, stride: number): Promise<Map<number, string>> {
  const market = new MarketDataService(undefined as unknown as FeedStore); // CSV sources need no store
  const reads = readActivities({ stores: undefined as never, market, logger: pino({ level: 'silent' }) });
  const config = parseRiskConfig(document);
  const hysteresis = { threshold: config.regimeDetection.threshold, minDwell: config.regimeDetection.minDwell };
  const declared = new Map<number, string>();
  let track: RegimeTrack | null = null;
  for (let bar = firstBar; bar < rows; bar += stride) {
    const ref = { spec: { kind: 'csv' as const, path }, lastIndex: bar, asOf: table.dates[bar] };
    const { earlier = [], ...latest } = await reads.assessRegime({ ref, config: document, sinceBar: track?.bar ?? null });
    track = trackRegime(track, [...earlier, latest], hysteresis);
    declared.set(bar, track!.regime);
  }
  return declared;
}

/** The backtest: its regime source advanced day by day through a cursor. */
function backtestRegimes(source: RegimeSource, firstBar: number, stride: number): Map<number, string> {
  const declared = new Map<number, string>();
  for (let today = 0; today < rows; today++) {
    const { regime } = source.read({ table, today } as MarketCursor);
    if (today >= firstBar && (today - firstBar) % stride === 0) declared.set(today, regime);
  }
  return declared;
}

const switches = (m: Map<number, string>) => [...m.values()].filter((r, i, all) => i > 0 && r !== all[i - 1]).length;

describe('live and backtest regime readings', () => {
  it('rule: the same regime on every bar, through holidays, a halt and a late listing', async () => {
    const document = {};
    const config = parseRiskConfig(document);
    const firstBar = config.regimeDetection.volWindow; // 22 index levels
    const backtest = backtestRegimes(new RuleRegimes(new RegimeIndex(table.assets, undefined), config), firstBar, 1);
    const live = await loopRegimes(document, firstBar, 1);
    expect(live.size).toBe(rows - firstBar);
    expect([...live.entries()]).toEqual([...backtest.entries()]);
    expect(switches(live)).toBeGreaterThan(5);
    expect(new Set(live.values())).toEqual(new Set(['bull', 'neutral', 'bear', 'crisis']));
  });

  it('HMM with more states than regimes: the same regime on every bar, and catching up three bars per cycle changes nothing', async () => {
    const regime = (name: string, maxVol: number | null, lev: number) => ({
      [name]: { equity_allocation: 1, leverage_limit: lev, vol_target: 0.1, max_position_share: 0.5, max_vol: maxVol },
    });
    const document = {
      risk_budgeting: {
        regime_allocations: { ...regime('calm', 0.2, 1.5), ...regime('turbulent', null, 0.5) },
        regime_detection: { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting.regime_detection, method: 'hmm', states: 4, restarts: 1 },
      },
    };
    const config = parseRiskConfig(document);
    const hmm = new WalkForwardHmm(new RegimeIndex(table.assets, undefined), config, {
      refitYears: 1,
      refitEveryBars: 21,
      window: { kind: 'rolling', days: 756 },
      minTrainingDays: minimumTrainingReturns(4),
      restarts: 1,
      maxIterations: 500,
      tolerance: 1e-6,
      seed: 1,
    });
    const backtest = backtestRegimes(hmm, 0, 1);
    const firstBar = hmm.refits[0].day; // the first reading either side can make
    const live = await loopRegimes(document, firstBar, 1);
    const expected = [...backtest.entries()].filter(([bar]) => bar >= firstBar);
    expect([...live.entries()]).toEqual(expected);
    expect(switches(live)).toBeGreaterThan(1);
    const strided = await loopRegimes(document, firstBar, 3);
    expect([...strided.entries()]).toEqual(expected.filter(([bar]) => (bar - firstBar) % 3 === 0));
  });
});
