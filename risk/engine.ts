/**
 * The budget engine: prices + regime + config → the RiskBudget the control loop commits and the gate
 * enforces. Pure and deterministic (no clock, no I/O); the same inputs always give the same budget.
 *
 * Pipeline:
 *  1. simple returns on the common calendar (risk/returns.ts), last `lookback_days` of them
 *  2. covariance with the configured estimator, annualized by `periods_per_year`
 *  3. two-level allocation: assets within each strategy by the configured method, then strategies so
 *     that their risk contributions match their (regime-tilted) budgets
 *  4. position cap: no (strategy, asset) pair above the regime's `max_position_share` of the book,
 *     the excess redistributed pro rata (equal weights when the cap is below 1/n)
 *  5. vol targeting on √(wᵀΣw) of the book, bounded by regime/global caps, floor, step, smoothing
 *  6. correlation awareness: leverage × `correlation.scale` when average correlation > threshold
 *  7. limits in currency. Gross below 1 leaves an explicit cash leg; book weights are never
 *     renormalized to absorb it.
 */
import { equalRiskContribution, inverseVolWeights, riskBudgetingWeights } from './allocation';
import type { AssetBudget, PortfolioLimits, RiskBudget, StrategyBudget } from './budget';
import { type RegimePolicy, type RiskConfig, regimePolicy } from './config';
import {
  type CovarianceEstimate,
  type CovarianceMatrix,
  type CovarianceSpec,
  annualizeEstimate,
  estimateCovariance,
  subCovariance,
} from './covariance';
import { averagePairwiseCorrelation, portfolioVol, riskContributions } from './measures';
import {
  type ResolvedStrategy,
  capWeights,
  cashWeight,
  correlationScaling,
  regimeLeverageCap,
  resolveStrategies,
  tiltedBudgets,
} from './policy';
import { type RiskLimits, type RiskModel, budgetRiskModel, riskModelId } from './riskModel';
import { type ReturnMatrix, alignedReturns, lastObservations, periodReturns } from './returns';
import { DataError, type PriceTable, sliceTable } from './timeseries';
import { type AnnualizedVol, type Currency, type Leverage, annualizedVol, currency, fraction, leverage, price, weights } from './units';
import { type LeverageDecision, targetLeverage } from './volTarget';

export interface BudgetInputs {
  portfolioId: string;
  /** ISO date/time of the last bar used. */
  asOf: string;
  /** The lookback window, NaN = missing. */
  prices: PriceTable;
  /** Regime name decided upstream (rule classifier or HMM + hysteresis). */
  regime: string;
  config: RiskConfig;
  /** Defaults to config.capital. */
  capital?: Currency;
  /** Last committed budget: anchors the leverage step limit and smoothing. */
  previous?: RiskBudget;
}

type Diagnostics = Record<string, number | string | boolean>;
type Annualized = CovarianceMatrix<'annualized'>;

/** One (strategy, asset) position of the risky book; `weight` is a fraction of the book. */
interface Holding {
  readonly strategy: string;
  readonly asset: string;
  readonly weight: number;
}

interface Book {
  readonly holdings: readonly Holding[];
  readonly diagnostics: Diagnostics;
}

export function buildRiskBudget(inputs: BudgetInputs): RiskBudget {
  return buildBudgetWithModel(inputs).budget;
}

/**
 * The budget and the risk model it names (`budget.riskLimits.modelId`): the caller stores the model
 * (the activity, in Postgres) or keeps it in memory (the backtest); the budget stays small.
 */
export function buildBudgetWithModel(inputs: BudgetInputs): { budget: RiskBudget; riskModel: RiskModel } {
  const { config } = inputs;
  const policy = regimePolicy(config, inputs.regime);
  const capital = inputs.capital ?? config.capital;
  if (!(capital > 0) || !Number.isFinite(capital)) throw new DataError(`capital must be positive and finite, got ${capital}`);

  const estimate = estimateRisk(budgetedPrices(inputs.prices, config), config);
  const cov = estimate.estimate.covariance;
  const strategies = survivingStrategies(config, policy, cov.assets);
  const book = capPositions(allocateBook(strategies, cov, config), policy);
  const bookWeights = weights(aggregateByAsset(book.holdings, cov.assets));
  const bookVol = portfolioVol(cov, bookWeights);
  if (!(bookVol > 0)) throw new DataError(`forecast volatility of the book is ${bookVol}: prices do not move over the window`);

  const decision = decideLeverage(policy, config, bookVol, inputs.previous);
  const correlation = correlationScaling(averagePairwiseCorrelation(cov), config.correlation);
  const bookLeverage = leverage(decision.leverage * correlation.scale);

  const assets = assetBudgets(book.holdings, cov, bookLeverage, capital, inputs.prices);
  const limits = portfolioLimits(assets, capital, policy, config);
  const capped = withLotSizes(cappedAssets(assets, limits, policy, config.limitHeadroom), config.lotSizes);
  const forecastVol = annualizedVol(bookVol * bookLeverage);
  const riskModel = budgetRiskModel(cov);
  const riskLimits: RiskLimits = {
    modelId: riskModelId(riskModel),
    form: riskModel.form,
    assetCount: cov.assets.length,
    volLimit: annualizedVol(Math.max(policy.volTarget, forecastVol) * config.volLimitMultiple),
    riskBudgetTolerance: config.riskBudgetTolerance,
  };
  const budget: RiskBudget = {
    portfolioId: inputs.portfolioId,
    asOf: inputs.asOf,
    regime: policy.name,
    volTarget: policy.volTarget,
    forecastVol,
    limits,
    strategies: strategyBudgets(strategies, capped, limits, config.limitHeadroom),
    assets: capped,
    riskLimits,
    diagnostics: {
      ...estimate.diagnostics,
      ...book.diagnostics,
      bookVol,
      rawLeverage: decision.raw,
      clippedLeverage: decision.clipped,
      leverageBound: decision.bound,
      regimeCap: regimeLeverageCap(policy),
      leverageSmoothed: decision.smoothed,
      volTargetLeverage: decision.leverage,
      // A single asset has no pairwise correlation; NaN would not survive JSON.
      ...(Number.isFinite(correlation.averageCorrelation) ? { avgCorrelation: correlation.averageCorrelation } : {}),
      correlationThreshold: config.correlation.threshold,
      correlationScaled: correlation.applied,
      correlationScale: correlation.scale,
    },
  };
  return { budget, riskModel };
}

// ── estimation ────────────────────────────────────────────────────────────────────────────────

/**
 * The price columns the budget covers: every column without configured strategies, else the union of
 * the strategies' assets (other columns would only distort the average correlation). A configured
 * asset missing from the table is a DataError naming it.
 */
export function budgetedPrices(prices: PriceTable, config: RiskConfig): PriceTable {
  if (config.strategies.length === 0) return prices;
  const wanted = [...new Set(config.strategies.flatMap((s) => s.assets))];
  const missing = wanted.filter((a) => !prices.assets.includes(a));
  if (missing.length > 0) throw new DataError(`configured assets have no price column: ${missing.join(', ')}`);
  return sliceTable(prices, { assets: wanted });
}

/**
 * The annualized covariance of a price window as configured (estimator, its parameters, the calendar
 * policy, the last `lookback_days` returns), with what the estimation dropped. The budget is sized on
 * it; the book metrics and the backtest's triggers measure on it.
 */
export function estimateRisk(
  prices: PriceTable,
  config: RiskConfig,
): { estimate: CovarianceEstimate<'annualized'>; diagnostics: Diagnostics } {
  const { minObservations } = config.covariance;
  const spec = covarianceSpec(config);
  let returns: ReturnMatrix;
  let dropped: string[] = [];
  if (spec.estimator === 'pairwise') {
    returns = lastObservations(periodReturns(prices, 'simple'), config.lookbackDays);
  } else {
    const aligned = alignedReturns(prices, { kind: 'simple', minHistory: minObservations + 1, minObservations });
    returns = lastObservations(aligned.returns, config.lookbackDays);
    dropped = aligned.dropped.map((d) => d.asset);
  }
  if (returns.dates.length < minObservations) {
    throw new DataError(`only ${returns.dates.length} returns in the window; the budget needs at least ${minObservations}`);
  }
  const estimate = annualizeEstimate(estimateCovariance(returns, spec), config.periodsPerYear);
  return {
    estimate,
    diagnostics: {
      estimator: estimate.estimator,
      shrinkage: estimate.shrinkage ?? 0,
      observations: estimate.observations,
      covarianceRepaired: estimate.repaired !== null,
      droppedAssets: dropped.join(','),
    },
  };
}

/** The covariance estimator and its parameters as configured. */
function covarianceSpec(config: RiskConfig): CovarianceSpec {
  const { estimator, ewmaLambda, minObservations } = config.covariance;
  if (estimator === 'ewma') return { estimator, lambda: ewmaLambda };
  if (estimator === 'pairwise') return { estimator, minPeriods: minObservations };
  return { estimator };
}

// ── allocation ────────────────────────────────────────────────────────────────────────────────

/**
 * Strategies with the regime's tilts, restricted to assets that have a risk estimate. A strategy that
 * lost every asset (too little history) drops out and the others' budgets are renormalized.
 */
function survivingStrategies(config: RiskConfig, policy: RegimePolicy, estimated: readonly string[]): ResolvedStrategy[] {
  const configured = config.strategies.length > 0 ? config.strategies : resolveStrategies([], estimated);
  const kept = configured.map((s) => ({ ...s, assets: s.assets.filter((a) => estimated.includes(a)) })).filter((s) => s.assets.length > 0);
  if (kept.length === 0) throw new DataError('no configured asset has enough price history to budget');
  return tiltedBudgets(kept, policy);
}

/**
 * Two levels. Within a strategy, the configured method on the strategy's sub-covariance. Across
 * strategies, each sleeve is one synthetic asset with covariance WᵀΣW, and the sleeves are weighted so
 * their risk contributions match the strategy budgets (correlations between sleeves count).
 */
function allocateBook(strategies: readonly ResolvedStrategy[], cov: Annualized, config: RiskConfig): Book {
  const index = new Map(cov.assets.map((a, i) => [a, i]));
  const sleeves = strategies.map((s) => {
    const idx = s.assets.map((a) => index.get(a)!);
    return { strategy: s, idx, ...sleeveWeights(subCovariance(cov, idx), config) };
  });
  const n = cov.assets.length;
  const m = sleeves.length;
  const loadings = sleeves.map((s) => {
    const full = new Array<number>(n).fill(0);
    s.idx.forEach((i, k) => (full[i] = s.weights[k]));
    return full;
  });
  const sleeveCov: Annualized = { unit: 'annualized', assets: strategies.map((s) => s.name), values: sleeveCovariance(cov, loadings) };
  const top =
    m === 1
      ? { weights: [1], iterations: 0, error: 0, converged: true }
      : solved(
          riskBudgetingWeights(
            sleeveCov,
            strategies.map((s) => s.riskBudget),
            { tolerance: config.allocation.tolerance },
          ),
        );
  const holdings = sleeves.flatMap((s, k) =>
    s.strategy.assets.map((asset, i) => ({ strategy: s.strategy.name, asset, weight: top.weights[k] * s.weights[i] })),
  );
  return {
    holdings,
    diagnostics: {
      allocationMethod: config.allocation.method,
      solverIterations: top.iterations + sum(sleeves.map((s) => s.iterations)),
      solverError: Math.max(top.error, ...sleeves.map((s) => s.error)),
      solverConverged: top.converged && sleeves.every((s) => s.converged),
    },
  };
}

interface SleeveWeights {
  readonly weights: readonly number[];
  readonly iterations: number;
  /** Largest |relative risk contribution − budget| (0 for closed-form methods). */
  readonly error: number;
  readonly converged: boolean;
}

function sleeveWeights(cov: Annualized, config: RiskConfig): SleeveWeights {
  const n = cov.assets.length;
  switch (config.allocation.method) {
    case 'erc':
      return n === 1
        ? { weights: [1], iterations: 0, error: 0, converged: true }
        : solved(equalRiskContribution(cov, { tolerance: config.allocation.tolerance }));
    case 'inverse-vol':
      return { weights: inverseVolWeights(cov), iterations: 0, error: 0, converged: true };
    case 'equal-weight':
      return { weights: new Array<number>(n).fill(1 / n), iterations: 0, error: 0, converged: true };
  }
}

const solved = (r: { weights: readonly number[]; iterations: number; budgetError: number; converged: boolean }): SleeveWeights => ({
  weights: r.weights,
  iterations: r.iterations,
  error: r.budgetError,
  converged: r.converged,
});

/** Covariance between sleeves: LΣLᵀ with L the m×n loadings (each sleeve's weights on all assets). */
function sleeveCovariance(cov: Annualized, loadings: readonly (readonly number[])[]): Float64Array {
  const n = cov.assets.length;
  const m = loadings.length;
  const out = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        if (loadings[a][i] === 0) continue;
        for (let j = 0; j < n; j++) acc += loadings[a][i] * cov.values[i * n + j] * loadings[b][j];
      }
      out[a * m + b] = out[b * m + a] = acc;
    }
  }
  return out;
}

/** Enforce the regime's max position share on the book (see `capWeights`, including when it cannot hold). */
function capPositions(book: Book, policy: RegimePolicy): Book {
  const capped = capWeights(
    book.holdings.map((h) => h.weight),
    policy.maxPositionShare,
  );
  return {
    holdings: book.holdings.map((h, i) => ({ ...h, weight: capped.weights[i] })),
    diagnostics: { ...book.diagnostics, positionsCapped: capped.capped, positionCapFeasible: capped.feasible },
  };
}

function aggregateByAsset(holdings: readonly Holding[], assets: readonly string[]): number[] {
  const out = new Array<number>(assets.length).fill(0);
  for (const h of holdings) out[assets.indexOf(h.asset)] += h.weight;
  return out;
}

// ── leverage ──────────────────────────────────────────────────────────────────────────────────

function decideLeverage(policy: RegimePolicy, config: RiskConfig, bookVol: AnnualizedVol, previous?: RiskBudget): LeverageDecision {
  const limits = {
    regimeCap: regimeLeverageCap(policy),
    globalFloor: config.leverageFloor,
    globalCap: config.leverageCap,
    maxStep: config.maxLeverageStep,
    smoothing: config.leverageSmoothing,
  };
  return targetLeverage(policy.volTarget, bookVol, limits, previous ? previousBookLeverage(previous) : undefined);
}

/**
 * The previous vol-targeting leverage, so the step limit and smoothing follow the vol-target path
 * (correlation scaling is applied after them and is never delayed). Budgets without that diagnostic
 * fall back to gross leverage over the invested share of the book.
 */
function previousBookLeverage(previous: RiskBudget): Leverage {
  const recorded = previous.diagnostics.volTargetLeverage;
  if (typeof recorded === 'number' && Number.isFinite(recorded)) return leverage(recorded);
  const invested = sum(previous.assets.map((a) => Math.abs(a.targetWeight)));
  return leverage(invested > 0 ? previous.limits.grossLeverage / invested : previous.limits.grossLeverage);
}

// ── limits ────────────────────────────────────────────────────────────────────────────────────

function assetBudgets(
  holdings: readonly Holding[],
  cov: Annualized,
  bookLeverage: Leverage,
  capital: Currency,
  prices: PriceTable,
): AssetBudget[] {
  const assetWeights = aggregateByAsset(holdings, cov.assets);
  const rc = riskContributions(cov, weights(assetWeights)).relative;
  const n = cov.assets.length;
  return holdings.map((h) => {
    const i = cov.assets.indexOf(h.asset);
    const targetNotional = capital * bookLeverage * h.weight;
    return {
      strategy: h.strategy,
      asset: h.asset,
      targetWeight: fraction(h.weight),
      targetNotional: currency(targetNotional),
      maxPositionNotional: currency(Math.abs(targetNotional)), // headroom and caps applied in cappedAssets
      // An asset held by several strategies splits its risk contribution in proportion to weight.
      riskBudget: fraction(assetWeights[i] !== 0 ? (rc[i] * h.weight) / assetWeights[i] : 0),
      forecastVol: annualizedVol(Math.sqrt(cov.values[i * n + i])),
      referencePrice: price(lastPrice(prices, h.asset)),
    };
  });
}

/**
 * Portfolio limits: targets plus headroom, never above the hard cap (tightest of the regime cap and the
 * global cap) and never below the target itself.
 */
function portfolioLimits(assets: readonly AssetBudget[], capital: Currency, policy: RegimePolicy, config: RiskConfig): PortfolioLimits {
  const gross = sum(assets.map((a) => Math.abs(a.targetNotional)));
  const net = sum(assets.map((a) => a.targetNotional));
  const hardCap = capital * Math.min(regimeLeverageCap(policy), config.leverageCap);
  const maxGross = Math.max(gross, Math.min(gross * config.limitHeadroom, hardCap));
  const grossLeverage = leverage(gross / capital);
  return {
    capital,
    grossLeverage,
    maxGrossNotional: currency(maxGross),
    maxNetNotional: currency(Math.min(Math.abs(net) * config.limitHeadroom, maxGross)),
    cashWeight: cashWeight(grossLeverage),
    maxOrderNotional: currency(config.maxOrderShare * capital),
    priceCollar: config.priceCollar,
  };
}

/** Position limit: target × headroom, but never above the regime's max position share of the gross limit. */
/** The policy's lot sizes on the pairs that trade a lotted instrument (others carry none). */
function withLotSizes(assets: AssetBudget[], lotSizes: Readonly<Record<string, number>>): AssetBudget[] {
  return assets.map((a) => (lotSizes[a.asset] ? { ...a, lotSize: lotSizes[a.asset] } : a));
}

function cappedAssets(assets: readonly AssetBudget[], limits: PortfolioLimits, policy: RegimePolicy, headroom: number): AssetBudget[] {
  const shareCap = policy.maxPositionShare * limits.maxGrossNotional;
  return assets.map((a) => ({
    ...a,
    maxPositionNotional: currency(Math.min(Math.abs(a.targetNotional) * headroom, Math.max(shareCap, Math.abs(a.targetNotional)))),
  }));
}

function strategyBudgets(
  strategies: readonly ResolvedStrategy[],
  assets: readonly AssetBudget[],
  limits: PortfolioLimits,
  headroom: number,
): StrategyBudget[] {
  return strategies.map((s) => {
    const mine = assets.filter((a) => a.strategy === s.name);
    const gross = sum(mine.map((a) => Math.abs(a.targetNotional)));
    const net = Math.abs(sum(mine.map((a) => a.targetNotional)));
    return {
      strategy: s.name,
      riskBudget: s.riskBudget,
      capital: currency(gross), // = portfolio capital × leverage × the strategy's share of the book
      maxGrossNotional: currency(Math.min(gross * headroom, limits.maxGrossNotional)),
      maxNetNotional: currency(Math.min(net * headroom, limits.maxNetNotional)),
    };
  });
}

function lastPrice(prices: PriceTable, asset: string): number {
  const series = prices.series[prices.assets.indexOf(asset)];
  for (let t = series.length - 1; t >= 0; t--) if (Number.isFinite(series[t])) return series[t];
  throw new DataError(`asset "${asset}" has no price in the window`);
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
