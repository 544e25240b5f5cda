/**
 * Risk-engine core benchmark: for N = 20, 100, 500 assets and 3 years (756 days) of seeded synthetic daily
 * prices (3-factor model, per-asset vols 15–60 %), time each stage of a budget recomputation — returns,
 * covariance estimators (with shrinkage), the risk-budget solve (Newton, and CCD alone as the same-run
 * baseline), HRP — and the full pipeline prices → Ledoit–Wolf → ERC, with heap/RSS deltas.
 * Figures are medians over repeated runs (fewer repeats for the largest N).
 */
import { hrpWeights, riskBudgetingWeights } from '../risk/allocation';
import { type CovarianceSpec, annualizeEstimate, estimateCovariance } from '../risk/covariance';
import { alignedReturns } from '../risk/returns';
import { periodsPerYear } from '../risk/units';
import { type Timing, median } from './cpuTiming';
import { syntheticPrices } from './syntheticPrices';

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
