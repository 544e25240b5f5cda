/**
 * The risk budget: what the control loop commits and what the pre-trade gate enforces.
 * A budget is immutable once committed; every change is a new version. It is plain JSON so the
 * same object travels through Temporal payloads, a Postgres JSONB column and the gate's snapshot.
 */
import { isTradingScopeKind, TRADING_SCOPE_KINDS, type TradingScope, type TradingState } from './kinds';
import type { RiskLimits } from './riskModel';
import type { AnnualizedVol, Currency, Fraction, Leverage, Price } from './units';

export type RegimeName = string;

/** Limits for one (strategy, asset) pair. Notionals are absolute currency amounts. */
export interface AssetBudget {
  readonly strategy: string;
  readonly asset: string;
  /** Target weight of capital (signed fraction; negative = short), before leverage is applied. */
  readonly targetWeight: Fraction;
  /** Target notional = capital × leverage × targetWeight. */
  readonly targetNotional: Currency;
  /** Largest absolute position notional the gate lets this pair hold. */
  readonly maxPositionNotional: Currency;
  /** Share of total portfolio risk this pair is budgeted to carry (relative risk contribution). */
  readonly riskBudget: Fraction;
  /** Annualized volatility forecast used to size the pair. */
  readonly forecastVol: AnnualizedVol;
  /** Reference price the limits were computed at; the gate's price collar is centred on it. */
  readonly referencePrice: Price;
  /**
   * Units per lot (the policy's `lot_sizes`): SizePosition answers whole lots. Absent = any quantity
   * (and on budgets committed before lot sizes existed).
   */
  readonly lotSize?: number;
}

export interface StrategyBudget {
  readonly strategy: string;
  /** Share of portfolio risk allotted to the strategy (sums to 1 across strategies). */
  readonly riskBudget: Fraction;
  /** Capital allotted = portfolio capital × leverage × strategy weight. */
  readonly capital: Currency;
  readonly maxGrossNotional: Currency;
  readonly maxNetNotional: Currency;
}

export interface PortfolioLimits {
  /** Capital (net asset value) the budget was computed for. */
  readonly capital: Currency;
  /** Gross leverage target: gross notional / capital. Below 1, the remainder sits in cash. */
  readonly grossLeverage: Leverage;
  readonly maxGrossNotional: Currency;
  readonly maxNetNotional: Currency;
  /** Share of capital held in cash (1 − invested share when leverage < 1, else 0). Never renormalized away. */
  readonly cashWeight: Fraction;
  /** Largest single order notional. */
  readonly maxOrderNotional: Currency;
  /** Largest allowed relative deviation of an order price from the reference price. */
  readonly priceCollar: Fraction;
}

export interface RiskBudget {
  readonly portfolioId: string;
  /** Data time the budget was computed for (ISO-8601), i.e. the last bar it saw. */
  readonly asOf: string;
  readonly regime: RegimeName;
  readonly volTarget: AnnualizedVol;
  /** Forecast portfolio volatility at the target weights and leverage, √(wᵀΣw) annualized. */
  readonly forecastVol: AnnualizedVol;
  readonly limits: PortfolioLimits;
  readonly strategies: readonly StrategyBudget[];
  readonly assets: readonly AssetBudget[];
  /**
   * The risk model the gate checks orders against (VOL_LIMIT, RISK_BUDGET): the vol limit, the
   * tolerance on each strategy's `riskBudget` share and the content id of the stored covariance.
   * Absent on budgets committed before the gate had risk checks: the gate then skips those checks.
   */
  readonly riskLimits?: RiskLimits;
  /** Free-form diagnostics from the engine (solver iterations, shrinkage, repairs). */
  readonly diagnostics: Readonly<Record<string, number | string | boolean>>;
}

/** Budget fields an operator may override temporarily (the database CHECK lists the same four). */
export const OVERRIDABLE_LIMITS = ['maxPositionNotional', 'maxGrossNotional', 'maxNetNotional', 'maxOrderNotional'] as const;
export type OverridableLimit = (typeof OVERRIDABLE_LIMITS)[number];

/** A temporary override of one limit, with who asked for it, who approved it, why, and until when. */
export interface LimitOverrideRequest {
  readonly field: OverridableLimit;
  readonly value: number;
  readonly strategy?: string;
  readonly asset?: string;
  readonly reason: string;
  /** Who asked for the override; the loop's Update requires it and refuses an approver who is the same person. */
  readonly requestedBy?: string;
  readonly approver: string;
  /** ISO-8601 timestamp in the future. */
  readonly expiresAt: string;
}

/** An operator's change of what the gate lets a portfolio, one of its strategies or one of its instruments do. */
export interface TradingStateRequest {
  readonly state: TradingState;
  readonly reason: string;
  readonly operator: string;
  /** Absent: the whole portfolio (requests from before scopes have none). */
  readonly scope?: TradingScope;
}

/** Why a trading state's scope is malformed, or null: a known kind; a strategy or instrument name, none for the portfolio. */
export function tradingScopeError(scope: unknown): string | null {
  if (scope === undefined) return null;
  const s = scope as Partial<TradingScope> | null;
  if (!s || typeof s !== 'object' || !isTradingScopeKind(s.kind))
    return `scope.kind must be one of ${TRADING_SCOPE_KINDS.join(', ')}, got ${JSON.stringify(s?.kind)}`;
  const name = s.name ?? '';
  if (typeof name !== 'string' || name.length > 200) return 'scope.name must be a string of at most 200 characters';
  if (s.kind === 'portfolio' ? name !== '' : name.trim() === '')
    return `scope.name must name the ${s.kind}` + (s.kind === 'portfolio' ? ' (leave it empty)' : '');
  return null;
}

/**
 * Where each overridable limit lives, hence which scope an override of it may have: a position limit
 * per (strategy, asset) or per asset; gross/net per strategy or for the portfolio; order size for the
 * portfolio only. Returns the reason a scope is invalid, or null.
 */
export function overrideScopeError(field: OverridableLimit, strategy?: string, asset?: string): string | null {
  if (field === 'maxPositionNotional') return asset ? null : 'a maxPositionNotional override needs an asset';
  if (field === 'maxOrderNotional') return strategy || asset ? 'a maxOrderNotional override is portfolio-wide: no strategy or asset' : null;
  return asset ? `a ${field} override applies to a strategy or the portfolio, not to an asset` : null;
}

/** A budget as stored: the immutable body plus the version the store assigned. */
export interface BudgetVersion {
  readonly portfolioId: string;
  readonly version: number;
  readonly committedAt: string;
  readonly budget: RiskBudget;
}

/** Does `next` allow more risk than `current` anywhere? Drives the human-approval rule. */
export function addsRisk(current: RiskBudget | undefined, next: RiskBudget): boolean {
  if (!current) return true;
  const eps = 1e-9;
  if (next.limits.maxGrossNotional > current.limits.maxGrossNotional * (1 + eps)) return true;
  if (next.limits.maxNetNotional > current.limits.maxNetNotional * (1 + eps)) return true;
  if (next.limits.maxOrderNotional > current.limits.maxOrderNotional * (1 + eps)) return true;
  if (next.limits.priceCollar > current.limits.priceCollar * (1 + eps)) return true;
  const strategies = new Map(current.strategies.map((s) => [s.strategy, s]));
  const loosensStrategy = next.strategies.some((s) => {
    const prior = strategies.get(s.strategy);
    if (!prior) return s.maxGrossNotional > 0 || s.maxNetNotional > 0;
    return s.maxGrossNotional > prior.maxGrossNotional * (1 + eps) || s.maxNetNotional > prior.maxNetNotional * (1 + eps);
  });
  if (loosensStrategy) return true;
  const before = new Map(current.assets.map((a) => [`${a.strategy}\u0000${a.asset}`, a.maxPositionNotional]));
  return next.assets.some((a) => {
    const prior = before.get(`${a.strategy}\u0000${a.asset}`);
    return prior === undefined ? a.maxPositionNotional > 0 : a.maxPositionNotional > prior * (1 + eps);
  });
}
