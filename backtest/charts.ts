/**
 * Charts as SVG: vega-lite specs compiled to vega and rendered headless with `View.toSVG()` (no DOM,
 * no canvas). vega and vega-lite are ESM-only, hence the dynamic imports. Series are thinned to one
 * point every `step` trading days (plus the last) to keep the files small; drawdown troughs are kept
 * by taking each bucket's minimum.
 */
import { drawdownSeries } from './metrics';
import type { BacktestResult, StrategyName } from './run';
import { STRATEGY_NAMES } from './run';

export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

type Row = Record<string, string | number>;
type Spec = Record<string, unknown>;

const WIDTH = 900;
const HEIGHT = 320;
const COLORS: Record<StrategyName, string> = {
  'equal-weight': '#9e9e9e',
  'static-erc': '#1f77b4',
  'static-erc-vol-matched': '#17becf',
  'vol-target': '#ff7f0e',
  dynamic: '#d62728',
};

export async function renderCharts(result: BacktestResult, dates: readonly string[], title: string): Promise<Chart[]> {
  const specs = chartSpecs(result, dates, title);
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const charts: Chart[] = [];
  for (const { file, title: chartTitle, spec } of specs) {
    const quiet = vega.logger(vega.None);
    const compiled = vegaLite.compile(spec as never, { logger: quiet }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: quiet });
    charts.push({ file, title: chartTitle, svg: await view.toSVG() });
    view.finalize();
  }
  return charts;
}

export function chartSpecs(result: BacktestResult, dates: readonly string[], title: string): { file: string; title: string; spec: Spec }[] {
  // The first evaluation close is the decision day, still in cash; charts start at the first holding day.
  const from = result.evaluationStartDay + 1;
  const to = dates.length - 1;
  const step = Math.max(1, Math.floor((to - from) / 1500));
  const crises = result.crises.map((c, i) => ({
    name: c.name,
    row: i % 2,
    start: clampDate(c.start, dates[from]),
    end: c.end < dates[to] ? c.end : dates[to],
  }));
  const strategyRows = (
    value: (name: StrategyName) => ArrayLike<number>,
    keep: 'last' | 'min',
    names: readonly StrategyName[] = STRATEGY_NAMES,
  ) => names.flatMap((name) => thin(value(name), from, to, step, keep).map(([t, v]) => ({ date: dates[t], strategy: name, value: v })));

  const nav = (name: StrategyName) => {
    const trace = result.traces[name].nav;
    const base = trace[from];
    return Float64Array.from(trace, (x) => x / base);
  };
  const drawdown = (name: StrategyName) => {
    const dd = drawdownSeries(result.traces[name].nav, from, to);
    const out = new Float64Array(dates.length);
    out.set(dd, from);
    return out;
  };
  return [
    {
      file: 'equity.svg',
      title: 'Equity curves (log scale, growth of 1)',
      spec: lineChart(`${title}: growth of 1 (log scale)`, strategyRows(nav, 'last'), crises, { type: 'log' }, 'NAV'),
    },
    {
      file: 'drawdown.svg',
      title: 'Drawdowns',
      spec: lineChart(`${title}: drawdown from running peak`, strategyRows(drawdown, 'min'), crises, {}, 'drawdown', '%'),
    },
    {
      file: 'exposure.svg',
      title: 'Gross exposure (leverage)',
      spec: lineChart(
        `${title}: gross exposure Σ|w| (1 = fully invested)`,
        strategyRows((n) => result.traces[n].gross, 'last', ['static-erc-vol-matched', 'vol-target', 'dynamic']),
        crises,
        {},
        'gross exposure',
      ),
    },
    { file: 'regimes.svg', title: 'Regime probabilities (filtered)', spec: regimeChart(result, dates, from, to, step, crises, title) },
  ];
}

function lineChart(title: string, rows: Row[], crises: Row[], scale: Spec, yTitle: string, format?: string): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    layer: [
      crisisLayer(crises),
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'date', type: 'temporal', title: null },
          y: {
            field: 'value',
            type: 'quantitative',
            title: yTitle,
            scale: scale.type === 'log' ? scale : { zero: false, ...scale },
            axis: format ? { format: '.0%' } : {},
          },
          color: {
            field: 'strategy',
            type: 'nominal',
            scale: { domain: Object.keys(COLORS), range: Object.values(COLORS) },
            legend: { orient: 'bottom', title: null, direction: 'horizontal' },
          },
        },
      },
    ],
  };
}

/** Named crises as shaded spans with their names (alternating rows so neighbours do not overlap). */
function crisisLayer(crises: Row[], fill = '#f3c4c4', opacity = 0.45): Spec {
  return {
    data: { values: crises.length > 0 ? crises : [{ name: '', row: 0, start: '1900-01-01', end: '1900-01-01' }] },
    layer: [
      {
        mark: { type: 'rect', color: fill, opacity: crises.length > 0 ? opacity : 0 },
        encoding: { x: { field: 'start', type: 'temporal' }, x2: { field: 'end' } },
      },
      ...[0, 1].map((row) => ({
        transform: [{ filter: `datum.row === ${row}` }],
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 2 + 11 * row, fontSize: 9, color: '#a33' },
        encoding: { x: { field: 'start', type: 'temporal' }, y: { value: 0 }, text: { field: 'name' } },
      })),
    ],
  };
}

/** Calm → turbulent colours: greens to red. */
function regimeColors(count: number): string[] {
  const palette = ['#1a9850', '#91cf60', '#fdae61', '#d73027'];
  if (count === palette.length) return palette;
  return Array.from({ length: count }, (_, k) => `hsl(${Math.round(130 - (130 * k) / Math.max(count - 1, 1))}, 60%, 45%)`);
}

function regimeChart(
  result: BacktestResult,
  dates: readonly string[],
  from: number,
  to: number,
  step: number,
  crises: Row[],
  title: string,
): Spec {
  const names = result.regimeNames;
  const readings = result.dynamicStrategy.readings;
  const rows: Row[] = [];
  for (let t = from; t <= to; t += step) {
    const reading = readings[Math.min(t, readings.length - 1)];
    if (!reading) continue;
    const probabilities = reading.probabilities ?? names.map((n) => (n === reading.regime ? 1 : 0));
    names.forEach((name, k) => rows.push({ date: dates[t], regime: label(k, name), probability: probabilities[k] }));
  }
  const declared = thinDeclared(readings, dates, from, to).map((r) => ({
    ...r,
    regime: label(names.indexOf(String(r.regime)), String(r.regime)),
  }));
  const color = { domain: names.map((n, k) => label(k, n)), range: regimeColors(names.length) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${title}: filtered P(regime | data ≤ t); bar: declared regime`,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    vconcat: [
      {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: rows },
            mark: { type: 'area', opacity: 0.9 },
            encoding: {
              x: { field: 'date', type: 'temporal', title: null },
              y: { field: 'probability', type: 'quantitative', stack: 'normalize', title: 'probability', axis: { format: '.0%' } },
              color: { field: 'regime', type: 'nominal', scale: color, legend: { orient: 'bottom', direction: 'horizontal', title: null } },
              order: { field: 'regime', type: 'nominal' },
            },
          },
          crisisLayer(crises, '#000000', 0.18),
        ],
      },
      {
        width: WIDTH,
        height: 30,
        data: { values: declared },
        mark: { type: 'rect' },
        encoding: {
          x: { field: 'start', type: 'temporal', title: null },
          x2: { field: 'end' },
          color: { field: 'regime', type: 'nominal', scale: color, legend: null },
        },
      },
    ],
  };
}

const label = (k: number, name: string) => `${k}. ${name}`;

/** Runs of the declared regime as [start, end) date spans. */
function thinDeclared(readings: readonly ({ regime: string } | undefined)[], dates: readonly string[], from: number, to: number): Row[] {
  const spans: Row[] = [];
  const names: string[] = [];
  let current: string | undefined;
  let start = from;
  for (let t = from; t <= to + 1; t++) {
    const regime = t <= to ? readings[Math.min(t, readings.length - 1)]?.regime : undefined;
    if (regime === current && t <= to) continue;
    if (current !== undefined) spans.push({ start: dates[start], end: dates[Math.min(t, to)], regime: current });
    if (regime !== undefined && !names.includes(regime)) names.push(regime);
    current = regime;
    start = t;
  }
  return spans;
}

/** Every `step`-th point of [from, to] plus the last; 'min' keeps each bucket's minimum (drawdown troughs). */
function thin(values: ArrayLike<number>, from: number, to: number, step: number, keep: 'last' | 'min'): [number, number][] {
  const out: [number, number][] = [];
  for (let t = from; t <= to; t += step) {
    const end = Math.min(t + step - 1, to);
    let at = end;
    if (keep === 'min') for (let u = t; u <= end; u++) if (values[u] < values[at]) at = u;
    out.push([keep === 'min' ? at : t, values[keep === 'min' ? at : t]]);
  }
  if (out[out.length - 1][0] !== to) out.push([to, values[to]]);
  return out;
}

function clampDate(date: string, min: string): string {
  return date < min ? min : date;
}
