/**
 * The budget engine: prices + regime + config → the RiskBudget the control loop commits and the gate
 * enforces. Pure and deterministic (no clock, no I/O); the same inputs always give the same budget.
 *
 * Pipeline: aligned simple returns → annualized covariance → two-level allocation (strategy risk
 * budgets with the regime's tilts, then assets within each strategy) → position caps → vol targeting
 * (√(wᵀΣw) of the whole book) bounded by regime and global limits, step limit and smoothing →
 * correlation scaling → limits in currency. Gross below 1 leaves an explicit cash leg.
 */
import type { AssetBudget, RiskBudget, StrategyBudget } from './budget';
import { type RegimePolicy, type RiskConfig, regimePolicy } from './config';
import { averagePairwiseCorrelation, capWeights, cashWeight, correlationScaling, regimeLeverageCap, resolveStrategies, tiltedBudgets, type ResolvedStrategy } from './policy';
import { alignedReturns, type ReturnMatrix } from './returns';
import { DataError, type PriceTable } from './timeseries';
import { type Currency, type Leverage, type PeriodsPerYear, annualizedVol, currency, fraction, leverage, price, weights } from './units';
import { portfolioVol, targetLeverage } from './volTarget';

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

/** Fewest returns a covariance is estimated from; below this the estimate is noise. */
export const MIN_OBSERVATIONS = 20;

/** Position and exposure limits sit this far above their targets so ordinary drift is not rejected. */
export const DEFAULT_LIMIT_HEADROOM = 1.1;

type Matrix = number[][];

interface Covariance {
  readonly assets: readonly string[];
  /** Annualized covariance. */
  readonly matrix: Matrix;
  readonly diagnostics: Record<string, number | string | boolean>;
}

/** One (strategy, asset) position of the risky book; `weight` is a fraction of the book (Σ = 1). */
interface Holding {
  readonly strategy: string;
  readonly asset: string;
  readonly weight: number;
}

export function buildRiskBudget(inputs: BudgetInputs): RiskBudget {
  const { config } = inputs;
  const policy = regimePolicy(config, inputs.regime);
  const capital = inputs.capital ?? config.capital;
  if (!(capital > 0) || !Number.isFinite(capital)) throw new DataError(`capital must be positive and finite, got ${capital}`);

  const returns = estimationReturns(inputs.prices, config);
  const cov = sampleCovariance(returns, config.periodsPerYear);
  const strategies = tiltedBudgets(resolveStrategies(config.strategies, cov.assets), policy);
  const capped = capWeights(allocateBook(strategies, cov).map((h) => h.weight), policy.maxPositionShare);
  const holdings = allocateBook(strategies, cov).map((h, i) => ({ ...h, weight: capped.weights[i] }));
  const assetWeights = aggregateByAsset(holdings, cov.assets);
  const bookVol = portfolioVol(weights(assetWeights), cov.matrix);
  if (!(bookVol > 0)) throw new DataError(`forecast volatility of the book is ${bookVol}: prices do not move over the window`);

  const leverageCap = regimeLeverageCap(policy);
  const decision = targetLeverage(
    policy.volTarget,
    bookVol,
    {
      regimeCap: leverageCap.cap,
      globalFloor: config.leverageFloor,
      globalCap: config.leverageCap,
      maxStep: config.maxLeverageStep,
      smoothing: config.leverageSmoothing,
    },
    inputs.previous?.limits.grossLeverage,
  );
  const correlation = correlationScaling(averagePairwiseCorrelation(cov.matrix), config.correlation);
  const gross = leverage(decision.leverage * correlation.scale);

  const assets = assetBudgets(holdings, cov, gross, capital, inputs.prices, policy);
  const grossNotional = sum(assets.map((a) => Math.abs(a.targetNotional)));
  const netNotional = sum(assets.map((a) => a.targetNotional));
  const maxGross = Math.min(grossNotional * DEFAULT_LIMIT_HEADROOM, capital * Math.min(leverageCap.cap, config.leverageCap));
  return {
    portfolioId: inputs.portfolioId,
    asOf: inputs.asOf,
    regime: policy.name,
    volTarget: policy.volTarget,
    forecastVol: annualizedVol(bookVol * gross),
    limits: {
      capital,
      grossLeverage: leverage(grossNotional / capital),
      maxGrossNotional: currency(Math.max(maxGross, grossNotional)),
      maxNetNotional: currency(Math.min(Math.abs(netNotional) * DEFAULT_LIMIT_HEADROOM, Math.max(maxGross, grossNotional))),
      cashWeight: cashWeight(leverage(grossNotional / capital)),
      maxOrderNotional: currency(config.maxOrderShare * capital),
      priceCollar: config.priceCollar,
    },
    strategies: strategyBudgets(strategies, assets, gross, capital),
    assets,
    diagnostics: {
      ...cov.diagnostics,
      observations: returns.dates.length,
      bookVol,
      rawLeverage: decision.raw,
      clippedLeverage: decision.clipped,
      leverageBound: decision.bound,
      regimeCapBy: leverageCap.by,
      leverageSmoothed: decision.smoothed,
      volTargetLeverage: decision.leverage,
      avgCorrelation: correlation.averageCorrelation,
      correlationScaled: correlation.applied,
      correlationScale: correlation.scale,
      positionsCapped: capped.capped,
      uninvestedByPositionCap: 1 - sum(capped.weights),
    },
  };
}

function estimationReturns(prices: PriceTable, config: RiskConfig): ReturnMatrix {
  if (prices.dates.length < MIN_OBSERVATIONS + 1) {
    throw new DataError(`need at least ${MIN_OBSERVATIONS + 1} price rows to budget, got ${prices.dates.length}`);
  }
  const window = Math.min(prices.dates.length, config.lookbackDays + 1);
  const { returns, dropped } = alignedReturns(prices, { kind: 'simple', minHistory: MIN_OBSERVATIONS + 1, minObservations: MIN_OBSERVATIONS });
  if (dropped.length > 0) throw new DataError(`assets without enough history: ${dropped.map((d) => `${d.asset} (${d.reason})`).join('; ')}`);
  const start = Math.max(returns.dates.length - (window - 1), 0);
  return { assets: returns.assets, dates: returns.dates.slice(start), columns: returns.columns.map((c) => c.subarray(start)) };
}

/** Interim estimator until risk/covariance.ts lands: unbiased sample covariance, annualized. */
function sampleCovariance(returns: ReturnMatrix, periods: PeriodsPerYear): Covariance {
  const n = returns.assets.length;
  const t = returns.dates.length;
  const means = returns.columns.map((c) => sum(Array.from(c)) / t);
  const matrix: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < t; k++) acc += (returns.columns[i][k] - means[i]) * (returns.columns[j][k] - means[j]);
      matrix[i][j] = matrix[j][i] = (acc / (t - 1)) * periods;
    }
  }
  return { assets: returns.assets, matrix, diagnostics: { estimator: 'sample', shrinkage: 0 } };
}

/**
 * Two-level allocation. Within a strategy: inverse volatility. Across strategies: weight ∝ risk
 * budget / strategy vol, so each strategy's stand-alone risk matches its budget.
 */
function allocateBook(strategies: readonly ResolvedStrategy[], cov: Covariance): Holding[] {
  const index = new Map(cov.assets.map((a, i) => [a, i]));
  const sleeves = strategies.map((s) => {
    const idx = s.assets.map((a) => index.get(a)!);
    const inv = idx.map((i) => 1 / Math.sqrt(cov.matrix[i][i]));
    const total = sum(inv);
    const w = inv.map((x) => x / total);
    const sub = idx.map((i) => idx.map((j) => cov.matrix[i][j]));
    return { strategy: s, w, vol: portfolioVol(weights(w), sub) };
  });
  const scale = sleeves.map((s) => (s.strategy.riskBudget > 0 ? s.strategy.riskBudget / s.vol : 0));
  const total = sum(scale);
  return sleeves.flatMap((s, k) =>
    s.strategy.assets.map((asset, i) => ({ strategy: s.strategy.name, asset, weight: (scale[k] / total) * s.w[i] })),
  );
}

function aggregateByAsset(holdings: readonly Holding[], assets: readonly string[]): number[] {
  const out = new Array<number>(assets.length).fill(0);
  for (const h of holdings) out[assets.indexOf(h.asset)] += h.weight;
  return out;
}

function assetBudgets(
  holdings: readonly Holding[],
  cov: Covariance,
  gross: Leverage,
  capital: Currency,
  prices: PriceTable,
  policy: RegimePolicy,
): AssetBudget[] {
  const book = aggregateByAsset(holdings, cov.assets);
  const variance = portfolioVol(weights(book), cov.matrix) ** 2;
  const positionCap = policy.maxPositionShare * gross * capital * DEFAULT_LIMIT_HEADROOM;
  return holdings.map((h) => {
    const i = cov.assets.indexOf(h.asset);
    const marginal = sum(cov.matrix[i].map((c, j) => c * book[j]));
    const targetNotional = capital * gross * h.weight;
    return {
      strategy: h.strategy,
      asset: h.asset,
      targetWeight: fraction(h.weight),
      targetNotional: currency(targetNotional),
      maxPositionNotional: currency(Math.min(Math.abs(targetNotional) * DEFAULT_LIMIT_HEADROOM, positionCap)),
      riskBudget: fraction(variance > 0 ? (h.weight * marginal) / variance : 0),
      forecastVol: annualizedVol(Math.sqrt(cov.matrix[i][i])),
      referencePrice: price(lastPrice(prices, h.asset)),
    };
  });
}

function strategyBudgets(strategies: readonly ResolvedStrategy[], assets: readonly AssetBudget[], gross: Leverage, capital: Currency): StrategyBudget[] {
  return strategies.map((s) => {
    const mine = assets.filter((a) => a.strategy === s.name);
    const grossNotional = sum(mine.map((a) => Math.abs(a.targetNotional)));
    const netNotional = sum(mine.map((a) => a.targetNotional));
    return {
      strategy: s.name,
      riskBudget: s.riskBudget,
      capital: currency(capital * gross * sum(mine.map((a) => a.targetWeight))),
      maxGrossNotional: currency(grossNotional * DEFAULT_LIMIT_HEADROOM),
      maxNetNotional: currency(Math.abs(netNotional) * DEFAULT_LIMIT_HEADROOM),
    };
  });
}

function lastPrice(prices: PriceTable, asset: string): number {
  const series = prices.series[prices.assets.indexOf(asset)];
  for (let t = series.length - 1; t >= 0; t--) if (Number.isFinite(series[t])) return series[t];
  throw new DataError(`asset "${asset}" has no price in the window`);
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
