/**
 * HMM regime detection: Baum–Welch fit time (K = 2 and 4, 5 seeded restarts) on ~3 years and on the
 * full 2000–2022 S&P 500 index, and the online filter's cost per observation.
 * Ratios are against same-run baselines: K = 2 on 3 years for fits, the batch filter for step().
 */
import { sharedDataFile } from '../lib/paths';
import { readPriceFile } from '../market/csvPrices';
import { filterProbabilities, HmmFilter } from '../risk/regime/filter';
import { fitGaussianHmm, type HmmFit } from '../risk/regime/hmm';
import { logReturns } from '../risk/regime/features';
import { sliceTable } from '../risk/timeseries';

const RESTARTS = 5;

export async function run(): Promise<void> {
  const file = sharedDataFile('skfolio', 'sp500_index.csv.gz');
  const all = readPriceFile(file);
  const windows = [
    { label: '3y 2020–2022', start: '2020-01-01', end: '2022-12-31' },
    { label: 'full 2000–2022', start: '2000-01-01', end: '2022-12-31' },
  ];
  console.log(`hmm: Baum–Welch fit, ${RESTARTS} restarts, median of repeated runs (S&P 500 daily log returns)`);
  let baselineMs: number | undefined;
  for (const w of windows) {
    const returns = logReturns(sliceTable(all, { start: w.start, end: w.end, assets: ['SP500'] }).series[0]).returns;
    for (const states of [2, 4]) {
      const { ms, bestMs, fit } = timeFit(returns, states, w.label.startsWith('3y') ? 7 : 3);
      baselineMs ??= ms;
      const totalIterations = fit.restarts.reduce((s, r) => s + r.iterations, 0);
      console.log(
        `  ${w.label.padEnd(15)} T=${String(returns.length).padStart(4)} K=${states}: ${ms.toFixed(1).padStart(7)} ms (best ${bestMs.toFixed(1)}) ` +
          `(${totalIterations} iterations, ${((ms / totalIterations) * 1000).toFixed(0)} µs/iteration, ` +
          `logL ${fit.logLikelihood.toFixed(1)}, ×${(ms / baselineMs).toFixed(1)} vs 3y K=2)`,
      );
    }
  }

  const returns = logReturns(sliceTable(all, { start: '2000-01-01', end: '2022-12-31', assets: ['SP500'] }).series[0]).returns;
  for (const states of [2, 4]) {
    const model = fitGaussianHmm(returns, { states, restarts: 1 }).model;
    const batch: number[] = [];
    const step: number[] = [];
    // Interleaved and repeated so both variants see the same JIT state and machine load.
    for (let rep = 0; rep < 21; rep++) {
      batch.push(timeNs(() => filterProbabilities(model, returns)) / returns.length);
      const filter = new HmmFilter(model);
      step.push(
        timeNs(() => {
          for (let t = 0; t < returns.length; t++) filter.step(returns[t]);
        }) / returns.length,
      );
    }
    const [stepNs, batchNs] = [median(step), median(batch)];
    console.log(
      `hmm: filter K=${states}, ${returns.length} observations: step() ${stepNs.toFixed(0)} ns/observation ` +
        `(best ${Math.min(...step).toFixed(0)}), batch ${batchNs.toFixed(0)} ns/observation (best ${Math.min(...batch).toFixed(0)}), ` +
        `step/batch ×${(stepNs / batchNs).toFixed(2)}`,
    );
  }
}

function timeFit(returns: Float64Array, states: number, runs: number): { ms: number; bestMs: number; fit: HmmFit } {
  let fit: HmmFit | undefined;
  fitGaussianHmm(returns, { states, restarts: RESTARTS }); // warm-up (JIT)
  const times = repeat(runs, () => timeNs(() => (fit = fitGaussianHmm(returns, { states, restarts: RESTARTS }))) / 1e6);
  return { ms: median(times), bestMs: Math.min(...times), fit: fit! };
}

function timeNs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start);
}

const repeat = (n: number, fn: () => number): number[] => Array.from({ length: n }, fn);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (require.main === module) void run();
