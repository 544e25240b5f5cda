/**
 * Risk-engine core benchmark: for N = 20, 100, 500 assets and 3 years (756 days) of seeded synthetic daily
 * prices (3-factor model, per-asset vols 15–60 %), time each stage of a budget recomputation — returns,
 * covariance estimators (with shrinkage), the risk-budget solve (Newton, and CCD alone as the same-run
 * baseline), HRP — and the full pipeline prices → Ledoit–Wolf → ERC, with heap/RSS deltas.
 * Figures are medians over repeated runs (fewer repeats for the largest N).
 */
import { seededRng } from '../risk/random';
import { hrpWeights, riskBudgetingWeights } from '../risk/allocation';
import { type CovarianceSpec, annualizeEstimate, estimateCovariance } from '../risk/covariance';
import { alignedReturns } from '../risk/returns';
import type { PriceTable } from '../risk/timeseries';
import { periodsPerYear } from '../risk/units';

const DAYS = 756;
const SIZES = [20, 100, 500];
const PERIODS = periodsPerYear(252);

interface Row {
  readonly n: number;
  readonly stage: string;
  readonly time: Timing;
  readonly detail: string;
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const n of SIZES) {
    const table = syntheticPrices(n, DAYS + 1, 42 + n);
    const repeats = n >= 500 ? 5 : 20;
    const { returns } = alignedReturns(table, { minHistory: DAYS });
    rows.push({
      n,
      stage: 'returns (common calendar)',
      time: median(repeats, () => alignedReturns(table, { minHistory: DAYS })),
      detail: `${returns.dates.length} obs`,
    });

    const specs: [string, CovarianceSpec][] = [
      ['cov sample', { estimator: 'sample' }],
      ['cov ewma λ=0.94', { estimator: 'ewma', lambda: 0.94 }],
      ['cov ledoit-wolf', { estimator: 'ledoit-wolf' }],
      ['cov ledoit-wolf-cc', { estimator: 'ledoit-wolf-cc' }],
    ];
    for (const [stage, spec] of specs) {
      const est = estimateCovariance(returns, spec);
      const shrink = est.shrinkage === null ? '' : `δ=${est.shrinkage.toFixed(4)} `;
      rows.push({
        n,
        stage,
        time: median(repeats, () => estimateCovariance(returns, spec)),
        detail: `${shrink}repaired=${est.repaired !== null}`,
      });
    }

    const cov = annualizeEstimate(estimateCovariance(returns, { estimator: 'ledoit-wolf' }), PERIODS).covariance;
    const budgets = Array.from({ length: n }, (_, i) => (i + 1) / ((n * (n + 1)) / 2));
    const erc = riskBudgetingWeights(cov, equal(n));
    const newtonMs = median(repeats, () => riskBudgetingWeights(cov, equal(n)));
    rows.push({
      n,
      stage: 'ERC Newton',
      time: newtonMs,
      detail: `${erc.warmStartSweeps} CCD sweeps + ${erc.iterations} Newton it, err ${erc.budgetError.toExponential(1)}`,
    });
    const cold = riskBudgetingWeights(cov, equal(n), { warmStartSweeps: 0 });
    const coldMs = median(Math.min(repeats, 5), () => riskBudgetingWeights(cov, equal(n), { warmStartSweeps: 0 }));
    rows.push({
      n,
      stage: 'ERC Newton cold start',
      time: coldMs,
      detail: `${cold.iterations} Newton it; cold ÷ warm = ${(coldMs.cpu / newtonMs.cpu).toFixed(1)}`,
    });
    const ccdOnly = { maxNewtonIterations: 0, warmStartSweeps: 0 };
    const ccd = riskBudgetingWeights(cov, equal(n), ccdOnly);
    const ccdMs = median(Math.min(repeats, 5), () => riskBudgetingWeights(cov, equal(n), ccdOnly));
    rows.push({
      n,
      stage: 'ERC CCD only (baseline)',
      time: ccdMs,
      detail: `${ccd.iterations} sweeps, err ${ccd.budgetError.toExponential(1)}; CCD ÷ warm Newton = ${(ccdMs.cpu / newtonMs.cpu).toFixed(2)}`,
    });
    const rb = riskBudgetingWeights(cov, budgets);
    rows.push({
      n,
      stage: 'RB (b_i ∝ i) Newton',
      time: median(repeats, () => riskBudgetingWeights(cov, budgets)),
      detail: `${rb.warmStartSweeps} CCD sweeps + ${rb.iterations} Newton it, err ${rb.budgetError.toExponential(1)}`,
    });
    rows.push({ n, stage: 'HRP single linkage', time: median(repeats, () => hrpWeights(cov)), detail: '' });

    global.gc?.();
    const before = process.memoryUsage();
    const fullMs = median(repeats, () => {
      const r = alignedReturns(table, { minHistory: DAYS }).returns;
      const c = annualizeEstimate(estimateCovariance(r, { estimator: 'ledoit-wolf' }), PERIODS).covariance;
      return riskBudgetingWeights(c, equal(n));
    });
    const after = process.memoryUsage();
    rows.push({
      n,
      stage: 'FULL prices→LW→ERC',
      time: fullMs,
      detail: `heap Δ ${mb(after.heapUsed - before.heapUsed)}, rss Δ ${mb(after.rss - before.rss)}, rss ${mb(after.rss)}`,
    });
  }
  printTable(rows);
}

function equal(n: number): number[] {
  return Array.from({ length: n }, () => 1 / n);
}

/**
 * Median CPU milliseconds (user + system) of `fn`. CPU time rather than wall time because the benchmark
 * machines are shared: wall time mostly measures the neighbours. Wall time is reported alongside.
 */
interface Timing {
  readonly cpu: number;
  readonly wall: number;
}

function median(repeats: number, fn: () => unknown): Timing {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { cpu: middle(cpu), wall: middle(wall) };
}

function middle(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function printTable(rows: readonly Row[]): void {
  const out = [
    `risk core: ${DAYS} daily returns, synthetic 3-factor prices; median CPU ms (wall ms in brackets)`,
    `${'N'.padStart(4)}  ${'stage'.padEnd(26)} ${'cpu ms'.padStart(9)} ${'(wall)'.padStart(10)}  detail`,
  ];
  for (const r of rows) {
    out.push(
      `${String(r.n).padStart(4)}  ${r.stage.padEnd(26)} ${r.time.cpu.toFixed(2).padStart(9)} ${`(${r.time.wall.toFixed(1)})`.padStart(10)}  ${r.detail}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Seeded 3-factor daily prices: r = Bf + e, factor vol ~1 %/day, idiosyncratic vol ~0.8–3.5 %/day. */
function syntheticPrices(n: number, days: number, seed: number): PriceTable {
  const rand = seededRng(seed).uniform;
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const loadings = Array.from({ length: n }, () => [0.5 + rand(), rand() - 0.5, rand() - 0.5]);
  const idio = Array.from({ length: n }, () => 0.008 + 0.027 * rand());
  const series = Array.from({ length: n }, () => new Float64Array(days));
  const price = new Float64Array(n).fill(100);
  for (let t = 0; t < days; t++) {
    const f = [0.01 * normal(), 0.006 * normal(), 0.004 * normal()];
    for (let i = 0; i < n; i++) {
      if (t > 0) price[i] *= 1 + loadings[i][0] * f[0] + loadings[i][1] * f[1] + loadings[i][2] * f[2] + idio[i] * normal();
      series[i][t] = price[i];
    }
  }
  const dates = Array.from({ length: days }, (_, t) => new Date(Date.UTC(2020, 0, 1) + t * 86_400_000).toISOString().slice(0, 10));
  return { dates, assets: Array.from({ length: n }, (_, i) => `S${String(i).padStart(3, '0')}`), series };
}
