/**
 * A rebalancing recommendation: what moving the book from its current positions to a new budget's
 * targets would trade, cost and do to risk, and how urgently it should happen. Pure: positions, the
 * budgets and (optionally) a covariance come in, a plain-JSON recommendation goes out.
 *
 * Conventions: weights are fractions of capital (NAV), cash included, so current and target
 * allocations each sum to 1. Turnover = Σ|Δw| over assets (buys + sells, fraction of capital), the
 * convention of backtest/metrics.ts. Estimated cost = traded notional × cost in basis points.
 */
import { addsRisk as limitsAddRisk, type RiskBudget } from './budget';
import type { RiskConfig } from './config';
import type { CovarianceMatrix } from './covariance';
import { portfolioVol } from './measures';
import type { Positions, TriggerResult } from './triggers';
import { type AnnualizedVol, type Currency, type Fraction, annualizedVol, currency, fraction, weights } from './units';

export interface Allocation {
  /** Asset → signed notional. */
  readonly notionals: Readonly<Record<string, Currency>>;
  /** Asset → notional / capital. */
  readonly weights: Readonly<Record<string, Fraction>>;
  /** 1 − Σ weights: negative when the book is financed (leverage above 1). */
  readonly cash: Fraction;
  readonly gross: Currency;
}

export interface AssetDelta {
  readonly asset: string;
  readonly currentNotional: Currency;
  readonly targetNotional: Currency;
  /** Signed trade: target − current (positive = buy). */
  readonly deltaNotional: Currency;
  readonly currentWeight: Fraction;
  readonly targetWeight: Fraction;
  readonly deltaWeight: Fraction;
}

export type Priority = 'urgent' | 'high' | 'normal' | 'low';

export interface RecommendationDetail {
  readonly portfolioId: string;
  readonly asOf: string;
  readonly regime: string;
  readonly capital: Currency;
  readonly current: Allocation;
  readonly target: Allocation;
  /** Sorted by |deltaNotional|, largest first. */
  readonly deltas: readonly AssetDelta[];
  readonly turnover: Fraction;
  readonly tradedNotional: Currency;
  readonly estimatedCost: Currency;
  readonly costBps: number;
  /** Forecast vol of current positions and of the targets (null without a covariance). */
  readonly currentForecastVol: AnnualizedVol | null;
  readonly targetForecastVol: AnnualizedVol | null;
  /** True when the new budget loosens any limit or the targets carry more risk than the current book. */
  readonly addsRisk: boolean;
  readonly priority: Priority;
  readonly reasons: readonly string[];
}

export interface RecommendationInputs {
  readonly positions: Positions;
  /** The proposed budget. */
  readonly budget: RiskBudget;
  /** The committed budget the proposal would replace (undefined for a new portfolio). */
  readonly committed?: RiskBudget;
  readonly config: RiskConfig;
  /** Annualized covariance of the budget's assets, to compare forecast risk. */
  readonly covariance?: CovarianceMatrix<'annualized'>;
  /** Triggers that prompted the recommendation; they set the priority. */
  readonly triggers?: readonly TriggerResult[];
  /** Overrides config.transactionCostBps. */
  readonly costBps?: number;
}

/** Relative tolerance below which a change of forecast vol or exposure is not "more risk". */
const RISK_EPSILON = 1e-9;

export function buildRecommendation(inputs: RecommendationInputs): RecommendationDetail {
  const { budget, positions } = inputs;
  const capital = budget.limits.capital;
  const current = allocation(positions, capital);
  const target = allocation(targetNotionals(budget), capital);
  const deltas = assetDeltas(current, target);
  const traded = deltas.reduce((s, d) => s + Math.abs(d.deltaNotional), 0);
  const costBps = inputs.costBps ?? inputs.config.transactionCostBps;
  if (!(costBps >= 0) || !Number.isFinite(costBps))
    throw new RangeError(`cost must be a non-negative number of basis points, got ${costBps}`);
  const currentVol = inputs.covariance ? forecastVol(current, inputs.covariance) : null;
  const targetVol = inputs.covariance ? forecastVol(target, inputs.covariance) : null;
  const moreRisk =
    targetVol !== null && currentVol !== null
      ? targetVol > currentVol * (1 + RISK_EPSILON)
      : target.gross > current.gross * (1 + RISK_EPSILON);
  const adds = limitsAddRisk(inputs.committed, budget) || moreRisk;
  const { priority, reasons } = prioritize(inputs, adds);
  return {
    portfolioId: budget.portfolioId,
    asOf: budget.asOf,
    regime: budget.regime,
    capital,
    current,
    target,
    deltas,
    turnover: fraction(traded / capital),
    tradedNotional: currency(traded),
    estimatedCost: currency((traded * costBps) / 10_000),
    costBps,
    currentForecastVol: currentVol,
    targetForecastVol: targetVol,
    addsRisk: adds,
    priority,
    reasons,
  };
}

/** Target notional per asset, summed over the strategies that hold it. */
export function targetNotionals(budget: RiskBudget): Record<string, Currency> {
  const out: Record<string, Currency> = {};
  for (const a of budget.assets) out[a.asset] = currency((out[a.asset] ?? 0) + a.targetNotional);
  return out;
}

function allocation(notionals: Positions, capital: Currency): Allocation {
  if (!(capital > 0)) throw new RangeError(`capital must be positive, got ${capital}`);
  const w: Record<string, Fraction> = {};
  let invested = 0;
  let gross = 0;
  for (const [asset, n] of Object.entries(notionals)) {
    if (!Number.isFinite(n)) throw new RangeError(`position in ${asset} is not a finite notional: ${n}`);
    w[asset] = fraction(n / capital);
    invested += n / capital;
    gross += Math.abs(n);
  }
  return { notionals: { ...notionals }, weights: w, cash: fraction(1 - invested), gross: currency(gross) };
}

function assetDeltas(current: Allocation, target: Allocation): AssetDelta[] {
  const assets = [...new Set([...Object.keys(current.notionals), ...Object.keys(target.notionals)])];
  return assets
    .map((asset) => {
      const c = current.notionals[asset] ?? 0;
      const t = target.notionals[asset] ?? 0;
      const cw = current.weights[asset] ?? 0;
      const tw = target.weights[asset] ?? 0;
      return {
        asset,
        currentNotional: currency(c),
        targetNotional: currency(t),
        deltaNotional: currency(t - c),
        currentWeight: fraction(cw),
        targetWeight: fraction(tw),
        deltaWeight: fraction(tw - cw),
      };
    })
    .sort((a, b) => Math.abs(b.deltaNotional) - Math.abs(a.deltaNotional) || (a.asset < b.asset ? -1 : 1));
}

/** Forecast vol of an allocation; assets the covariance does not cover are an error, not zero risk. */
function forecastVol(a: Allocation, cov: CovarianceMatrix<'annualized'>): AnnualizedVol {
  const missing = Object.keys(a.weights).filter((asset) => a.weights[asset] !== 0 && !cov.assets.includes(asset));
  if (missing.length > 0) throw new RangeError(`covariance has no estimate for held assets: ${missing.join(', ')}`);
  return annualizedVol(portfolioVol(cov, weights(cov.assets.map((asset) => a.weights[asset] ?? 0))));
}

/**
 * urgent: de-risking in the most turbulent configured regime, or the book is over its limits (budget
 *         breach) and the move reduces risk;
 * high:   regime change, vol breach or correlation spike;
 * normal: drift only;
 * low:    nothing fired (a manual or scheduled refresh).
 */
function prioritize(inputs: RecommendationInputs, adds: boolean): { priority: Priority; reasons: string[] } {
  const fired = (inputs.triggers ?? []).filter((t) => t.fired);
  const reasons = fired.map((t) => `${t.kind}: ${t.detail}`);
  const kinds = new Set(fired.map((t) => t.kind));
  const regimes = inputs.config.regimes;
  const mostTurbulent = regimes[regimes.length - 1]?.name;
  if (!adds && inputs.budget.regime === mostTurbulent && regimes.length > 1) {
    return { priority: 'urgent', reasons: [`de-risking in the ${mostTurbulent} regime`, ...reasons] };
  }
  if (!adds && kinds.has('budget-breach')) return { priority: 'urgent', reasons };
  if (kinds.has('regime-change') || kinds.has('vol-breach') || kinds.has('correlation-spike') || kinds.has('budget-breach')) {
    return { priority: 'high', reasons };
  }
  if (kinds.has('drift')) return { priority: 'normal', reasons };
  return { priority: 'low', reasons: reasons.length > 0 ? reasons : ['no trigger fired'] };
}
