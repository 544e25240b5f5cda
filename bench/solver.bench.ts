/**
 * The risk-budget (ERC) solve at 500 and 5 000 assets, dense Σ and factor form, in one run with two
 * baselines on the same matrices:
 * - the previous solver: coordinate descent to 1e-8, then Newton steps by Cholesky, O(n³) each (still
 *   selectable as `{ denseNewtonSystem: 'cholesky', warmStartSweeps: 50 }`);
 * - an independent dense Newton in numpy (bench/python/spinu_newton.py, Spinu's damped Newton with
 *   np.linalg.solve, single-threaded BLAS), when /usr/bin/python3 has numpy (Debian: python3-numpy);
 *   otherwise skipped with a message. BALLAST_PYTHON names another interpreter.
 *
 * Matrices: "pypfopt" is PyPortfolioOpt's ill-conditioned 95-asset covariance (tests/cov_matrix.csv,
 * condition number 1.9e6) from /work/shared/data. The others come from the seeded 3-factor synthetic
 * prices of `npm run bench -- risk`, 756 daily returns: "LW" is the Ledoit–Wolf covariance of 500 assets
 * (the risk bench's matrix); "PCA-10" the statistical factor model with 10 principal components of the
 * same returns, solved in factor form and as its n×n expansion (the same Σ, so those rows compare directly).
 * The 5 000-asset baselines take about a minute of CPU each; SOLVER_BENCH_QUICK=1 skips them.
 *
 * Figures: median CPU ms over the repeats after a first call (shown apart: it includes JIT compilation),
 * wall ms in brackets; iterations as CCD warm-start sweeps + Newton steps (+ CG products);
 * max|RC/σ − b| recomputed from the returned weights; max|Δw| against the new solver's weights on the
 * same Σ; ratio = this row's CPU time ÷ the new solver's on the same Σ (the factor row: ÷ the dense one).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RiskBudgetingOptions, type RiskBudgetingResult, riskBudgetingWeights } from '../risk/allocation';
import { type CovarianceMatrix, annualizeEstimate, covarianceFromRows, ledoitWolf } from '../risk/covariance';
import {
  type CovarianceModel,
  annualizeFactorCovariance,
  covarianceTimes,
  denseCovarianceOf,
  statisticalFactorModel,
} from '../risk/factorModel';
import { alignedReturns } from '../risk/returns';
import { periodsPerYear } from '../risk/units';
import { repoRoot } from '../lib/paths';
import { type Timing, median } from './cpuTiming';
import { syntheticPrices } from './syntheticPrices';

const DAYS = 756;
const FACTORS = 10;
const PERIODS = periodsPerYear(252);
const PREVIOUS: RiskBudgetingOptions = { denseNewtonSystem: 'cholesky', warmStartSweeps: 50 };

interface Row {
  readonly n: number;
  readonly sigma: string;
  readonly solver: string;
  readonly time: Timing;
  readonly first: number;
  readonly iterations: string;
  readonly error: number;
  readonly gap: number | null;
  readonly ratio: number | null;
}

export async function run(): Promise<void> {
  const python = numpyInterpreter();
  if (typeof python !== 'string') process.stdout.write(`numpy baseline skipped: ${python.reason}\n`);
  const quick = process.env.SOLVER_BENCH_QUICK === '1';
  const rows: Row[] = [];
  const notes: string[] = [];
  const compare = (n: number, sigma: string, cov: CovarianceMatrix, repeats: { fast: number; slow: number }): TimedSolve => {
    const budgets = equalBudgets(n);
    const mine = timeSolve(cov, budgets, {}, repeats.fast);
    rows.push(row(n, sigma, 'Newton–CG (new)', mine, cov, budgets, mine));
    if (repeats.slow === 0) return mine;
    rows.push(row(n, sigma, 'CCD + Cholesky Newton (previous)', timeSolve(cov, budgets, PREVIOUS, repeats.slow), cov, budgets, mine));
    if (typeof python === 'string') rows.push(numpyRow(python, n, sigma, cov, budgets, repeats.slow, mine));
    return mine;
  };

  compare(95, 'pypfopt', pypfoptCovariance(), { fast: 51, slow: 11 });
  for (const n of [500, 5000]) {
    const returns = alignedReturns(syntheticPrices(n, DAYS + 1, 42 + n), { minHistory: DAYS }).returns;
    if (n === 500) compare(n, 'LW', annualizeEstimate(ledoitWolf(returns), PERIODS).covariance, { fast: 21, slow: 7 });
    const started = process.cpuUsage();
    const estimate = statisticalFactorModel(returns, { factors: FACTORS });
    notes.push(
      `${n}: PCA-${FACTORS} estimated in ${cpuSince(started).toFixed(0)} ms CPU (${estimate.iterations} Lanczos steps, ` +
        `${(estimate.explainedVariance * 100).toFixed(1)} % of variance)`,
    );
    const factor = annualizeFactorCovariance(estimate.covariance, PERIODS);
    const slow = n === 500 ? 7 : quick ? 0 : 1;
    const dense = compare(n, `PCA-${FACTORS} dense`, denseCovarianceOf(factor), { fast: n === 500 ? 21 : 5, slow });
    const woodbury = timeSolve(factor, equalBudgets(n), {}, n === 500 ? 51 : 21);
    rows.push(row(n, `PCA-${FACTORS} factor`, 'Newton–Woodbury (new)', woodbury, factor, equalBudgets(n), dense));
    global.gc?.();
  }
  if (quick) notes.push('SOLVER_BENCH_QUICK=1: the 5 000-asset baselines were skipped');
  printTable(rows, notes);
}

function equalBudgets(n: number): number[] {
  return Array.from({ length: n }, () => 1 / n);
}

function pypfoptCovariance(): CovarianceMatrix {
  const file = join(repoRoot(), '..', 'shared', 'data', 'pypfopt', 'tests', 'cov_matrix.csv');
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  return covarianceFromRows(
    'annualized',
    header.split(',').slice(1),
    lines.map((line) => line.split(',').slice(1).map(Number)),
  );
}

interface TimedSolve {
  readonly result: RiskBudgetingResult;
  readonly time: Timing;
  readonly first: number;
}

function timeSolve(cov: CovarianceModel, budgets: readonly number[], opts: RiskBudgetingOptions, repeats: number): TimedSolve {
  const started = process.cpuUsage();
  const result = riskBudgetingWeights(cov, budgets, opts);
  const first = cpuSince(started);
  return {
    result,
    first,
    time: repeats > 1 ? median(repeats - 1, () => riskBudgetingWeights(cov, budgets, opts)) : { cpu: first, wall: NaN },
  };
}

function row(
  n: number,
  sigma: string,
  solver: string,
  solve: TimedSolve,
  cov: CovarianceModel,
  budgets: readonly number[],
  reference: TimedSolve,
): Row {
  const r = solve.result;
  const system = r.newtonSystem === 'conjugate-gradient' ? `CG: ${r.conjugateGradientIterations} products` : r.newtonSystem;
  return {
    n,
    sigma,
    solver,
    time: solve.time,
    first: solve.first,
    iterations: `${r.warmStartSweeps} CCD + ${r.newtonIterations} Newton (${system})`,
    error: budgetError(cov, r.weights, budgets),
    gap: solve === reference ? null : maxDifference(r.weights, reference.result.weights),
    ratio: solve === reference ? null : solve.time.cpu / reference.time.cpu,
  };
}

/** max_i |w_i(Σw)_i / wᵀΣw − b_i| from the weights alone. */
function budgetError(cov: CovarianceModel, weights: ArrayLike<number>, budgets: readonly number[]): number {
  const sw = covarianceTimes(cov, weights);
  let variance = 0;
  for (let i = 0; i < weights.length; i++) variance += weights[i] * sw[i];
  let worst = 0;
  for (let i = 0; i < weights.length; i++) worst = Math.max(worst, Math.abs((weights[i] * sw[i]) / variance - budgets[i]));
  return worst;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1e3;
}

function numpyInterpreter(): string | { reason: string } {
  const python = process.env.BALLAST_PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return { reason: `${python} cannot run (${probe.error.message})` };
  if (probe.status !== 0) return { reason: `${python} has no numpy (Debian: apt-get install python3-numpy)` };
  return python;
}

interface NumpyReport {
  readonly cpuMs: number;
  readonly firstMs: number;
  readonly iterations: number;
  readonly numpy: string;
  readonly blas: string;
}

/** Runs bench/python/spinu_newton.py on Σ written as raw float64, single-threaded BLAS. */
function numpyRow(
  python: string,
  n: number,
  sigma: string,
  cov: CovarianceMatrix,
  budgets: readonly number[],
  repeats: number,
  mine: TimedSolve,
): Row {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-solver-'));
  try {
    const matrix = join(dir, 'sigma.f64');
    const weightsFile = join(dir, 'weights.f64');
    writeFileSync(matrix, new Uint8Array(cov.values.buffer, cov.values.byteOffset, cov.values.byteLength));
    const single = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const run = spawnSync(
      python,
      [join(repoRoot(), 'bench', 'python', 'spinu_newton.py'), matrix, String(n), String(repeats), weightsFile],
      {
        encoding: 'utf8',
        env: { ...process.env, ...single },
        maxBuffer: 1 << 20,
      },
    );
    if (run.status !== 0) throw new Error(`numpy baseline failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as NumpyReport;
    const bytes = readFileSync(weightsFile);
    const weights = new Float64Array(bytes.buffer, bytes.byteOffset, n);
    return {
      n,
      sigma,
      solver: `numpy ${report.numpy} Newton (${report.blas.includes('openblas') ? 'OpenBLAS' : report.blas}, 1 thread)`,
      time: { cpu: report.cpuMs, wall: NaN },
      first: report.firstMs,
      iterations: `${report.iterations} Newton (LU)`,
      error: budgetError(cov, weights, budgets),
      gap: maxDifference(weights, mine.result.weights),
      ratio: report.cpuMs / mine.time.cpu,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: readonly Row[], notes: readonly string[]): void {
  const exp = (x: number) => x.toExponential(1);
  const out = [
    `risk-budget solve (ERC) to max|RC/σ−b| < 1e-10: pypfopt = PyPortfolioOpt's 95×95 covariance, the rest from ${DAYS} daily returns of seeded 3-factor synthetic prices; median CPU ms (wall), first call apart`,
    `${'N'.padStart(5)}  ${'Σ'.padEnd(17)} ${'solver'.padEnd(40)} ${'cpu ms'.padStart(9)} ${'(wall)'.padStart(9)} ${'first'.padStart(9)}  ${'iterations'.padEnd(36)} ${'max|RC/σ−b|'.padStart(11)} ${'max|Δw|'.padStart(8)} ${'ratio'.padStart(7)}`,
  ];
  for (const r of rows) {
    const wall = Number.isNaN(r.time.wall) ? '' : `(${r.time.wall.toFixed(1)})`;
    out.push(
      `${String(r.n).padStart(5)}  ${r.sigma.padEnd(17)} ${r.solver.padEnd(40)} ${r.time.cpu.toFixed(2).padStart(9)} ${wall.padStart(9)} ${r.first.toFixed(1).padStart(9)}  ` +
        `${r.iterations.padEnd(36)} ${exp(r.error).padStart(11)} ${(r.gap === null ? '—' : exp(r.gap)).padStart(8)} ${(r.ratio === null ? '1' : `${r.ratio.toFixed(r.ratio < 10 ? 2 : 1)}×`).padStart(7)}`,
    );
  }
  out.push(...notes.map((note) => `  ${note}`));
  process.stdout.write(`${out.join('\n')}\n`);
}
