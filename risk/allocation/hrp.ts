/**
 * Hierarchical risk parity (López de Prado 2016, "Building diversified portfolios that outperform out of
 * sample"), in the convention of PyPortfolioOpt's `HRPOpt` (the reference output we test against):
 *
 * 1. distance d_ij = √(½(1 − ρ_ij)), linked directly (no second Euclidean distance-of-distances step);
 * 2. agglomerative clustering, single linkage by default; merges are labelled like SciPy's `linkage`
 *    (sorted by height, the cluster with the smaller id on the left, new clusters numbered n, n+1, …);
 * 3. quasi-diagonalization: the leaves of the dendrogram in pre-order (left subtree first);
 * 4. recursive bisection of that ordered list into halves by position; each half gets the share
 *    1 − V_half / (V_left + V_right) of its parent, V the variance of the half's inverse-variance portfolio.
 */
import { type CovarianceMatrix, correlationFromCovariance } from '../covariance';
import { DataError } from '../timeseries';
import { type Weights, fraction } from '../units';

export type LinkageMethod = 'single' | 'complete' | 'average';

export interface LinkageStep {
  /** Cluster ids merged (ids < n are assets, id n + k is the cluster made at step k); left < right. */
  readonly left: number;
  readonly right: number;
  readonly height: number;
  readonly size: number;
}

export interface HrpResult {
  readonly weights: Weights;
  /** Asset indices in quasi-diagonal (dendrogram leaf) order. */
  readonly order: readonly number[];
  readonly linkage: readonly LinkageStep[];
}

export interface HrpOptions {
  readonly linkage?: LinkageMethod;
  /**
   * Correlation to cluster on (row-major n×n). Defaults to the correlation implied by `cov`. Pass the
   * pairwise-complete correlation to reproduce pandas/PyPortfolioOpt on unequal histories.
   */
  readonly correlation?: Float64Array;
}

export function hrpWeights(cov: CovarianceMatrix, opts: HrpOptions = {}): HrpResult {
  const n = cov.assets.length;
  if (n === 0) throw new DataError('HRP needs at least one asset');
  const corr = opts.correlation ?? correlationFromCovariance(cov.values, n);
  if (corr.length !== n * n) throw new DataError(`HRP correlation must be ${n}×${n}`);
  const distance = corr.map((rho) => Math.sqrt(Math.max(0, (1 - rho) / 2)));
  for (let i = 0; i < n; i++) distance[i * n + i] = 0;
  const linkage = linkageOf(distance, n, opts.linkage ?? 'single');
  const order = leafOrder(linkage, n);
  return { weights: recursiveBisection(cov, order), order, linkage };
}

/** Agglomerative clustering of a full distance matrix; SciPy-compatible labelling of the merges. */
export function linkageOf(distance: Float64Array, n: number, method: LinkageMethod): LinkageStep[] {
  const merges = method === 'single' ? singleLinkageMerges(distance, n) : naiveMerges(distance, n, method);
  // Stable sort by height, then relabel with a union-find whose representative is the newest cluster id.
  merges.sort((p, q) => p.height - q.height);
  const parent = Int32Array.from({ length: 2 * n - 1 }, (_, i) => i);
  const size = new Int32Array(2 * n - 1).fill(1);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  return merges.map((m, k) => {
    const a = find(m.a);
    const b = find(m.b);
    const id = n + k;
    parent[a] = id;
    parent[b] = id;
    size[id] = size[a] + size[b];
    return { left: Math.min(a, b), right: Math.max(a, b), height: m.height, size: size[id] };
  });
}

interface RawMerge {
  readonly a: number;
  readonly b: number;
  readonly height: number;
}

/** Single linkage = the minimum spanning tree (Prim, O(n²)), edges joined in increasing length. */
function singleLinkageMerges(distance: Float64Array, n: number): RawMerge[] {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(n);
  const merges: RawMerge[] = [];
  let current = 0;
  inTree[0] = 1;
  for (let step = 1; step < n; step++) {
    let next = -1;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const d = distance[current * n + j];
      if (d < best[j]) {
        best[j] = d;
        from[j] = current;
      }
      if (next < 0 || best[j] < best[next]) next = j;
    }
    inTree[next] = 1;
    merges.push({ a: from[next], b: next, height: best[next] });
    current = next;
  }
  return merges;
}

/** O(n³) agglomeration for complete / average linkage (cluster sizes small enough in practice). */
function naiveMerges(distance: Float64Array, n: number, method: 'complete' | 'average'): RawMerge[] {
  const active = Array.from({ length: n }, (_, i) => i);
  const members = Array.from({ length: n }, (_, i) => [i]);
  const d = Float64Array.from(distance);
  const merges: RawMerge[] = [];
  while (active.length > 1) {
    let bi = 0;
    let bj = 1;
    for (let x = 0; x < active.length; x++) {
      for (let y = x + 1; y < active.length; y++) {
        if (d[active[x] * n + active[y]] < d[active[bi] * n + active[bj]]) [bi, bj] = [x, y];
      }
    }
    const i = active[bi];
    const j = active[bj];
    merges.push({ a: members[i][0], b: members[j][0], height: d[i * n + j] });
    for (const k of active) {
      if (k === i || k === j) continue;
      const merged =
        method === 'complete'
          ? Math.max(d[i * n + k], d[j * n + k])
          : (members[i].length * d[i * n + k] + members[j].length * d[j * n + k]) / (members[i].length + members[j].length);
      d[i * n + k] = merged;
      d[k * n + i] = merged;
    }
    members[i] = members[i].concat(members[j]);
    active.splice(bj, 1);
  }
  return merges;
}

/** Leaves of the dendrogram in pre-order, left subtree first. */
export function leafOrder(linkage: readonly LinkageStep[], n: number): number[] {
  const order: number[] = [];
  const stack = [2 * n - 2];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id < n) {
      order.push(id);
      continue;
    }
    const step = linkage[id - n];
    stack.push(step.right, step.left);
  }
  return order;
}

function recursiveBisection(cov: CovarianceMatrix, order: readonly number[]): Weights {
  const n = cov.assets.length;
  const w = new Float64Array(n).fill(1);
  let clusters: (readonly number[])[] = [order];
  while (clusters.length > 0) {
    const halves: (readonly number[])[] = [];
    for (const c of clusters) {
      if (c.length < 2) continue;
      const mid = Math.floor(c.length / 2);
      const left = c.slice(0, mid);
      const right = c.slice(mid);
      const vLeft = inverseVarianceClusterVariance(cov, left);
      const vRight = inverseVarianceClusterVariance(cov, right);
      const alpha = 1 - vLeft / (vLeft + vRight);
      for (const i of left) w[i] *= alpha;
      for (const i of right) w[i] *= 1 - alpha;
      halves.push(left, right);
    }
    clusters = halves;
  }
  return Array.from(w, fraction);
}

/** Variance of the inverse-variance portfolio of a cluster: wᵀΣw with w_i ∝ 1/Σ_ii. */
export function inverseVarianceClusterVariance(cov: CovarianceMatrix, members: readonly number[]): number {
  const n = cov.assets.length;
  const inv = members.map((i) => 1 / cov.values[i * n + i]);
  const total = inv.reduce((s, x) => s + x, 0);
  let variance = 0;
  members.forEach((i, a) => {
    members.forEach((j, b) => {
      variance += (inv[a] / total) * (inv[b] / total) * cov.values[i * n + j];
    });
  });
  return variance;
}
