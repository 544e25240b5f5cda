import { fitGaussianHmm, logLikelihood, stationaryDistribution, type GaussianHmm } from '../../../../risk/regime/hmm';
import { filterProbabilities, HmmFilter } from '../../../../risk/regime/filter';
import { seededRng } from '../../../../risk/random';
import { DataError } from '../../../../risk/timeseries';

/** Two-regime daily-return process: calm (σ 0.7 %/day) and turbulent (σ 2.2 %/day), sticky transitions. */
const truth: GaussianHmm = {
  initial: [1, 0],
  transition: [
    [0.99, 0.01],
    [0.03, 0.97],
  ],
  means: [[0.0006], [-0.0008]],
  variances: [[0.007 ** 2], [0.022 ** 2]],
};

function sample(model: GaussianHmm, length: number, seed: number): { x: Float64Array; states: Int32Array } {
  const rng = seededRng(seed);
  const x = new Float64Array(length);
  const states = new Int32Array(length);
  const draw = (p: readonly number[]) => {
    let u = rng.uniform();
    for (let k = 0; k < p.length - 1; k++) if ((u -= p[k]) < 0) return k;
    return p.length - 1;
  };
  let s = draw(model.initial);
  for (let t = 0; t < length; t++) {
    if (t > 0) s = draw(model.transition[s]);
    states[t] = s;
    x[t] = model.means[s][0] + Math.sqrt(model.variances[s][0]) * rng.normal();
  }
  return { x, states };
}

describe('Gaussian HMM, Baum–Welch (known answer on a seeded synthetic two-regime series)', () => {
  const { x, states } = sample(truth, 6000, 42);
  const fit = fitGaussianHmm(x, { states: 2, restarts: 3, seed: 7 });
  const m = fit.model;

  it('recovers the generating vols, means and transition matrix', () => {
    // Tolerances ≈ 3 standard errors for this sample size.
    expect(Math.abs(Math.sqrt(m.variances[0][0]) - 0.007)).toBeLessThan(2.5e-4);
    expect(Math.sqrt(m.variances[1][0]) / 0.022).toBeGreaterThan(0.93);
    expect(Math.sqrt(m.variances[1][0]) / 0.022).toBeLessThan(1.07);
    expect(Math.abs(m.means[0][0] - 0.0006)).toBeLessThan(3e-4);
    expect(Math.abs(m.means[1][0] + 0.0008)).toBeLessThan(2e-3);
    expect(Math.abs(m.transition[0][1] - 0.01)).toBeLessThan(0.006);
    expect(Math.abs(m.transition[1][0] - 0.03)).toBeLessThan(0.015);
    expect(fit.converged).toBe(true);
  });

  it('orders states calm → turbulent and decodes the true path most of the time', () => {
    expect(m.variances[0][0]).toBeLessThan(m.variances[1][0]);
    const p = filterProbabilities(m, x);
    const hits = p.filter((row, t) => (row[1] > 0.5 ? 1 : 0) === states[t]).length;
    expect(hits / x.length).toBeGreaterThan(0.9);
  });

  it('log-likelihood never decreases across Baum–Welch iterations', () => {
    const h = fit.logLikelihoodHistory;
    expect(h.length).toBeGreaterThan(3);
    for (let i = 1; i < h.length; i++) expect(h[i] - h[i - 1]).toBeGreaterThanOrEqual(-1e-9 * Math.abs(h[i]));
    expect(h[h.length - 1]).toBeCloseTo(fit.logLikelihood, 9);
    // The fitted model explains the data at least as well as the generating one.
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood(truth, x) - 1e-6);
  });

  it('keeps log-likelihood monotone from a poor start too (every restart, K = 3)', () => {
    const f3 = fitGaussianHmm(x.subarray(0, 2000), { states: 3, restarts: 3, seed: 3, maxIterations: 100 });
    const h = f3.logLikelihoodHistory;
    for (let i = 1; i < h.length; i++) expect(h[i] - h[i - 1]).toBeGreaterThanOrEqual(-1e-9 * Math.abs(h[i]));
    expect(f3.restarts).toHaveLength(3);
    expect(f3.logLikelihood).toBe(Math.max(...f3.restarts.map((r) => r.logLikelihood)));
  });

  it('is deterministic for a given seed', () => {
    const again = fitGaussianHmm(x, { states: 2, restarts: 3, seed: 7 });
    expect(again.model).toEqual(m);
  });

  it('stays finite over a long series with crash days far in the calm state’s tails', () => {
    const long = sample(truth, 9000, 5).x;
    long[4000] = -0.2; // a 1987-style day: ~29 σ for the calm state
    long[4001] = 0.11;
    const f = fitGaussianHmm(long, { states: 2, restarts: 2 });
    expect(Number.isFinite(f.logLikelihood)).toBe(true);
    const p = filterProbabilities(f.model, long);
    expect(p.every((row) => row.every(Number.isFinite))).toBe(true);
    expect(p[4000][1]).toBeGreaterThan(0.999);
  });

  it('applies the variance floor', () => {
    const y = Float64Array.from(x.subarray(0, 1000));
    y.fill(0.001, 0, 400); // 400 identical observations would collapse a state to zero variance
    const f = fitGaussianHmm(y, { states: 2, restarts: 2, varianceFloorRatio: 0.01 });
    const sampleVar = y.reduce((s, v) => s + v * v, 0) / y.length - (y.reduce((s, v) => s + v, 0) / y.length) ** 2;
    expect(f.model.variances[0][0]).toBeGreaterThanOrEqual(0.01 * sampleVar * (1 - 1e-12));
    expect(f.model.variances[0][0]).toBeLessThan(0.011 * sampleVar);
  });

  it('rejects too few observations, missing values and bad K', () => {
    expect(() => fitGaussianHmm(x.subarray(0, 50), { states: 2 })).toThrow(DataError);
    expect(() => fitGaussianHmm([...x.subarray(0, 500), Number.NaN], { states: 2 })).toThrow(DataError);
    expect(() => fitGaussianHmm(x, { states: 0 })).toThrow(RangeError);
    expect(() => fitGaussianHmm(x, { states: 2.5 })).toThrow(RangeError);
  });
});

describe('multivariate features (diagonal covariance)', () => {
  it('separates states on a second feature when returns alone cannot', () => {
    // Same return distribution in both states; only the second feature (say log implied vol) differs.
    const rng = seededRng(11);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let t = 0; t < 3000; t++) {
      const s = Math.floor(t / 250) % 2;
      labels.push(s);
      rows.push([0.01 * rng.normal(), (s === 0 ? -2 : -1) + 0.2 * (s === 0 ? 1 : 2) * rng.normal()]);
    }
    const f = fitGaussianHmm(rows, { states: 2, restarts: 3 });
    expect(f.model.means[0][1]).toBeCloseTo(-2, 1);
    expect(f.model.means[1][1]).toBeCloseTo(-1, 1);
    const p = filterProbabilities(f.model, rows);
    // States are ordered by the first feature's variance, so compare up to relabelling.
    const agree = p.filter((row, t) => (row[1] > 0.5 ? 1 : 0) === labels[t]).length / rows.length;
    expect(Math.max(agree, 1 - agree)).toBeGreaterThan(0.97);
  });
});

describe('forward filter', () => {
  const model: GaussianHmm = {
    initial: [0.6, 0.4],
    transition: [
      [0.9, 0.1],
      [0.2, 0.8],
    ],
    means: [[0], [0]],
    variances: [[1], [4]],
  };
  const normal = (x: number, v: number) => Math.exp((-0.5 * x * x) / v) / Math.sqrt(2 * Math.PI * v);

  it('matches a hand computation of P(state_t | x_1..t) and brute-force path enumeration', () => {
    const xs = [0.5, -2.5, 1.0, 0.1, 3.0];
    // Enumerate all 2^5 paths: P(s_t = k, x_1..t) summed over paths of length t.
    const joint = (t: number, k: number) => {
      let total = 0;
      for (let mask = 0; mask < 1 << (t + 1); mask++) {
        const path = Array.from({ length: t + 1 }, (_, i) => (mask >> i) & 1);
        if (path[t] !== k) continue;
        let p = model.initial[path[0]] * normal(xs[0], model.variances[path[0]][0]);
        for (let i = 1; i <= t; i++) p *= model.transition[path[i - 1]][path[i]] * normal(xs[i], model.variances[path[i]][0]);
        total += p;
      }
      return total;
    };
    const filtered = filterProbabilities(model, xs);
    for (let t = 0; t < xs.length; t++) {
      const a = joint(t, 0);
      const b = joint(t, 1);
      expect(filtered[t][1]).toBeCloseTo(b / (a + b), 12);
      expect(filtered[t][0] + filtered[t][1]).toBeCloseTo(1, 14);
    }
    expect(logLikelihood(model, xs)).toBeCloseTo(Math.log(joint(4, 0) + joint(4, 1)), 10);
    // First step by hand: 0.4·N(0.5;0,4) / (0.6·N(0.5;0,1) + 0.4·N(0.5;0,4)).
    const h = (0.4 * normal(0.5, 4)) / (0.6 * normal(0.5, 1) + 0.4 * normal(0.5, 4));
    expect(filtered[0][1]).toBeCloseTo(h, 14);
  });

  it('look-ahead guard: probabilities at t do not change when later observations change', () => {
    const { x } = sample(truth, 1500, 9);
    const altered = Float64Array.from(x);
    for (let t = 1000; t < altered.length; t++) altered[t] = -0.1 * altered[t] - 0.05;
    const a = filterProbabilities(truth, x);
    const b = filterProbabilities(truth, altered);
    for (let t = 0; t < 1000; t++) expect(Array.from(b[t])).toEqual(Array.from(a[t]));
    expect(b[1000][1]).not.toBeCloseTo(a[1000][1], 6);
  });

  it('incremental step(), serialized state and the batch filter agree exactly; rows sum to 1', () => {
    const { x } = sample(truth, 800, 3);
    const batch = filterProbabilities(truth, x);
    let filter = new HmmFilter(truth);
    for (let t = 0; t < x.length; t++) {
      if (t === 400) filter = new HmmFilter(truth, JSON.parse(JSON.stringify(filter.state)));
      const p = filter.step(x[t]);
      expect(Array.from(p)).toEqual(Array.from(batch[t]));
      expect(p[0] + p[1]).toBeCloseTo(1, 12);
    }
    expect(filter.state.observations).toBe(800);
  });

  it('a missing observation (NaN) only propagates the prior through the transition matrix', () => {
    const f = new HmmFilter(model);
    const p1 = f.step(2.0);
    const p2 = f.step(Number.NaN);
    expect(p2[0]).toBeCloseTo(p1[0] * 0.9 + p1[1] * 0.2, 14);
    expect(p2[1]).toBeCloseTo(p1[0] * 0.1 + p1[1] * 0.8, 14);
  });
});

describe('stationaryDistribution', () => {
  it('solves π = πA: for two states π = (q, p) / (p + q) with p = P(0→1), q = P(1→0)', () => {
    // p = 0.01, q = 0.03 → π = (0.75, 0.25).
    const pi = stationaryDistribution(truth);
    expect(pi[0]).toBeCloseTo(0.75, 12);
    expect(pi[1]).toBeCloseTo(0.25, 12);
  });
});
