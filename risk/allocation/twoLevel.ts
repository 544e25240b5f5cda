/**
 * Two-level risk budgeting: risk budgets across strategies, then across assets inside each strategy.
 *
 * 1. Inside strategy s, weights u_s over its assets (sum 1) from the strategy's own sub-covariance:
 *    risk budgeting with the strategy's asset budgets (ERC when none are given), inverse vol, or HRP.
 * 2. Each strategy is then one synthetic asset with return u_sᵀr; their covariance is Σ_S = UᵀΣU.
 * 3. Risk budgeting across strategies on Σ_S with the strategy budgets gives strategy weights v (sum 1).
 * 4. The (strategy, asset) weight is v_s·u_sa. Strategy risk contributions equal the strategy budgets
 *    exactly; an asset held by two strategies is two pairs whose risk is measured on the net position.
 *
 * Weights are fractions of the capital being allocated (before leverage); the engine turns them into
 * currency, notional and position limits.
 */
import type { CovarianceMatrix, CovarianceUnit } from '../covariance';
import { subCovariance } from '../covariance';
import { dot, matVec } from '../linalg';
import type { VolOf } from '../measures';
import { riskContributions } from '../measures';
import { DataError } from '../timeseries';
import { type Fraction, type Weights, fraction, weights } from '../units';
import { BudgetError, validateBudgets } from './budgets';
import { hrpWeights } from './hrp';
import { inverseVolWeights } from './inverseVol';
import { type RiskBudgetingOptions, riskBudgetingWeights } from './riskBudgeting';

export interface StrategySpec {
  readonly name: string;
  /** Share of portfolio risk; the strategies' budgets must sum to 1. */
  readonly riskBudget: number;
  readonly assets: readonly string[];
  /** Risk budgets across the strategy's assets (same order, sum 1). Default: equal risk contribution. */
  readonly assetBudgets?: readonly number[];
}

export type InnerMethod = 'rb' | 'ivol' | 'hrp';

export interface TwoLevelOptions {
  /** How to weight assets inside a strategy: risk budgeting (default), inverse vol, or HRP. */
  readonly inner?: InnerMethod;
  readonly solver?: RiskBudgetingOptions;
}

export interface StrategyAllocation<U extends CovarianceUnit> {
  readonly strategy: string;
  readonly riskBudget: Fraction;
  /** Share of capital; long-only, so gross = net = weight. */
  readonly weight: Fraction;
  readonly grossWeight: Fraction;
  readonly netWeight: Fraction;
  /** Relative contribution to portfolio risk (equals riskBudget up to the solver error). */
  readonly riskContribution: Fraction;
  /** Stand-alone volatility of the strategy's asset mix (in the covariance's unit). */
  readonly vol: VolOf<U>;
  /** max |RC/σ − b| inside the strategy (0 for single-asset strategies; NaN for ivol/HRP, which target no budget). */
  readonly innerBudgetError: number;
  readonly innerIterations: number;
}

export interface PairAllocation {
  readonly strategy: string;
  readonly asset: string;
  /** Share of capital: strategy weight × weight inside the strategy. */
  readonly weight: Fraction;
  readonly weightInStrategy: Fraction;
  /** Relative contribution to total portfolio risk (pairs sum to 1). */
  readonly riskContribution: Fraction;
  /** Relative contribution to the strategy's own stand-alone risk (sum to 1 within a strategy). */
  readonly riskContributionInStrategy: Fraction;
}

export interface TwoLevelResult<U extends CovarianceUnit> {
  readonly strategies: readonly StrategyAllocation<U>[];
  readonly pairs: readonly PairAllocation[];
  /** Net weight per asset of the covariance (summed over strategies), in `cov.assets` order. */
  readonly assetWeights: Weights;
  readonly portfolioVol: VolOf<U>;
  /** Strategy-level solver: iterations and max |RC_s/σ − b_s|. */
  readonly iterations: number;
  readonly budgetError: number;
}

export function twoLevelAllocation<U extends CovarianceUnit>(
  cov: CovarianceMatrix<U>,
  strategies: readonly StrategySpec[],
  opts: TwoLevelOptions = {},
): TwoLevelResult<U> {
  validateStrategies(cov, strategies);
  const strategyBudgets = validateBudgets(
    strategies.map((s) => s.riskBudget),
    strategies.length,
    'strategy risk budget',
  );
  const n = cov.assets.length;
  const inner = strategies.map((s) => innerAllocation(cov, s, opts));

  // U: n × S exposure of each strategy's unit portfolio; Σ_S = UᵀΣU.
  const exposures = inner.map(({ indices, weights: u }) => {
    const column = new Float64Array(n);
    indices.forEach((i, k) => (column[i] += u[k]));
    return column;
  });
  const sigmaTimesU = exposures.map((col) => matVec(cov.values, col, n));
  const m = strategies.length;
  const strategyCov = new Float64Array(m * m);
  for (let s = 0; s < m; s++) for (let t = 0; t < m; t++) strategyCov[s * m + t] = dot(exposures[s], sigmaTimesU[t]);
  const outer = riskBudgetingWeights(
    { unit: cov.unit, assets: strategies.map((s) => s.name), values: strategyCov },
    strategyBudgets,
    opts.solver,
  );

  const net = new Float64Array(n);
  exposures.forEach((col, s) => col.forEach((x, i) => (net[i] += outer.weights[s] * x)));
  const portfolio = riskContributions(cov, weights(Array.from(net)));
  const variance = portfolio.portfolioVol * portfolio.portfolioVol;
  const sigmaNet = matVec(cov.values, net, n);

  const pairs: PairAllocation[] = [];
  const allocations = strategies.map((spec, s) => {
    const { indices, weights: u, contributions } = inner[s];
    indices.forEach((i, k) => {
      const w = outer.weights[s] * u[k];
      pairs.push({
        strategy: spec.name,
        asset: cov.assets[i],
        weight: fraction(w),
        weightInStrategy: fraction(u[k]),
        riskContribution: fraction((w * sigmaNet[i]) / variance),
        riskContributionInStrategy: contributions[k],
      });
    });
    return {
      strategy: spec.name,
      riskBudget: strategyBudgets[s],
      weight: outer.weights[s],
      grossWeight: outer.weights[s],
      netWeight: outer.weights[s],
      riskContribution: outer.riskContributions[s],
      vol: Math.sqrt(strategyCov[s * m + s]) as VolOf<U>,
      innerBudgetError: inner[s].budgetError,
      innerIterations: inner[s].iterations,
    };
  });
  return {
    strategies: allocations,
    pairs,
    assetWeights: Array.from(net, fraction),
    portfolioVol: portfolio.portfolioVol,
    iterations: outer.iterations,
    budgetError: outer.budgetError,
  };
}

interface InnerResult {
  readonly indices: readonly number[];
  readonly weights: Weights;
  readonly contributions: readonly Fraction[];
  readonly budgetError: number;
  readonly iterations: number;
}

function innerAllocation(cov: CovarianceMatrix, spec: StrategySpec, opts: TwoLevelOptions): InnerResult {
  const indices = spec.assets.map((a) => cov.assets.indexOf(a));
  const sub = subCovariance(cov, indices);
  const method = opts.inner ?? 'rb';
  if (spec.assetBudgets && method !== 'rb') {
    throw new BudgetError(`strategy ${spec.name}: asset budgets only apply to the risk-budgeting inner method, not ${method}`);
  }
  if (method === 'rb') {
    const budgets = spec.assetBudgets ?? spec.assets.map(() => 1 / spec.assets.length);
    validateBudgets(budgets, spec.assets.length, `asset risk budget of strategy ${spec.name}`);
    const r = riskBudgetingWeights(sub, budgets, opts.solver);
    return { indices, weights: r.weights, contributions: r.riskContributions, budgetError: r.budgetError, iterations: r.iterations };
  }
  const w = method === 'ivol' ? inverseVolWeights(sub) : hrpWeights(sub).weights;
  return { indices, weights: w, contributions: riskContributions(sub, w).relative, budgetError: Number.NaN, iterations: 0 };
}

function validateStrategies(cov: CovarianceMatrix, strategies: readonly StrategySpec[]): void {
  if (strategies.length === 0) throw new BudgetError('two-level allocation needs at least one strategy');
  const names = new Set<string>();
  for (const s of strategies) {
    if (names.has(s.name)) throw new BudgetError(`strategy ${s.name} is listed twice`);
    names.add(s.name);
    if (s.assets.length === 0) throw new BudgetError(`strategy ${s.name} has no assets`);
    if (new Set(s.assets).size !== s.assets.length) throw new BudgetError(`strategy ${s.name} lists an asset twice`);
    for (const a of s.assets) {
      if (!cov.assets.includes(a))
        throw new DataError(`strategy ${s.name}: asset ${a} is not in the covariance (have: ${cov.assets.join(', ')})`);
    }
  }
}
