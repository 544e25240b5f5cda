import { hrpWeights, inverseVarianceClusterVariance, leafOrder, linkageOf } from '../../../../risk/allocation/hrp';
import { covFromVolCorr } from '../helpers';

describe('hierarchical risk parity', () => {
  // Two blocks: {A1, A2} with ρ = 0.9 and {A3, A4} with ρ = 0.8, uncorrelated across blocks. Listed in an
  // interleaved order (A1, A3, A2, A4) so that quasi-diagonalization has to regroup them.
  const vols = [0.1, 0.3, 0.2, 0.4];
  const corr = [
    [1, 0, 0.9, 0],
    [0, 1, 0, 0.8],
    [0.9, 0, 1, 0],
    [0, 0.8, 0, 1],
  ];
  const cov = covFromVolCorr(vols, corr);

  it.each(['single', 'complete', 'average'] as const)('clusters the blocks first with %s linkage, SciPy-style labels', (method) => {
    const r = hrpWeights(cov, { linkage: method });
    // d = √((1 − ρ)/2): 0.2236 for (A1, A2) → cluster 4; 0.3162 for (A3, A4) → cluster 5; then (4, 5) at √0.5.
    expect(r.linkage.map((s) => [s.left, s.right, s.size])).toEqual([
      [0, 2, 2],
      [1, 3, 2],
      [4, 5, 4],
    ]);
    expect(r.linkage[0].height).toBeCloseTo(Math.sqrt(0.05), 15);
    expect(r.linkage[2].height).toBeCloseTo(Math.sqrt(0.5), 15);
    expect(r.order).toEqual([0, 2, 1, 3]);
  });

  it('allocates by recursive bisection with inverse-variance cluster weights (hand computation)', () => {
    const r = hrpWeights(cov);
    const v = vols.map((s) => s * s);
    // Top split {A1, A2} | {A3, A4}: each side's inverse-variance portfolio variance.
    const left = inverseVarianceClusterVariance(cov, [0, 2]);
    const right = inverseVarianceClusterVariance(cov, [1, 3]);
    const ivp = (a: number, b: number) => [1 / a / (1 / a + 1 / b), 1 / b / (1 / a + 1 / b)];
    const [u1, u2] = ivp(v[0], v[2]);
    expect(left).toBeCloseTo(u1 * u1 * v[0] + u2 * u2 * v[2] + 2 * u1 * u2 * 0.9 * vols[0] * vols[2], 16);
    const alpha = 1 - left / (left + right);
    // Second level: single assets, so each pair splits by inverse variance.
    expect(r.weights[0]).toBeCloseTo(alpha * u1, 14);
    expect(r.weights[2]).toBeCloseTo(alpha * u2, 14);
    const [u3, u4] = ivp(v[1], v[3]);
    expect(r.weights[1]).toBeCloseTo((1 - alpha) * u3, 14);
    expect(r.weights[3]).toBeCloseTo((1 - alpha) * u4, 14);
    expect(r.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 15);
  });

  it('handles a single asset and walks deep (chained) dendrograms without recursion', () => {
    expect(hrpWeights(covFromVolCorr([0.2], [[1]])).weights).toEqual([1]);
    // A chain: distances grow along the list, so single linkage adds one leaf at a time.
    const n = 300;
    const distance = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) distance[i * n + j] = Math.abs(i - j) === 1 ? 0.001 * (Math.min(i, j) + 1) : 1;
    const order = leafOrder(linkageOf(distance, n, 'single'), n);
    expect(order).toHaveLength(n);
    expect(new Set(order).size).toBe(n);
  });
});
