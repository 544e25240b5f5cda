/**
 * The immutable per-portfolio snapshot the gate decides from: the latest committed budget, indexed for
 * O(1) lookups, with the portfolio's trading state and its limit overrides. A snapshot is built once
 * (off the request path) and swapped in atomically; nothing mutates it afterwards.
 */
import type { BudgetVersion, OverridableLimit, RiskBudget } from '../budget';
import type { TradingScopeKind, TradingState } from '../kinds';
import type { ActiveOverride } from '../overrides';
import { type RiskModel, loadRiskModel } from '../riskModel';
import type { Currency, Price } from '../units';
import { CovarianceKernel } from './riskState';

export type OverrideField = OverridableLimit;
/** A limit override in force; null strategy/asset means "any". */
export type LimitOverride = ActiveOverride;

export interface PairLimits {
  readonly strategy: string;
  readonly asset: string;
  readonly maxPositionNotional: Currency;
  readonly referencePrice: Price;
  /** Units per lot; undefined = any quantity. */
  readonly lotSize: number | undefined;
}

export interface StrategyLimits {
  readonly strategy: string;
  readonly maxGrossNotional: Currency;
  readonly maxNetNotional: Currency;
}

export interface PortfolioSnapshot {
  readonly portfolioId: string;
  readonly version: number;
  readonly committedAtMs: number;
  /**
   * When the control loop last confirmed this budget still stands: the later of the commit and the
   * loop's last heartbeat. Staleness is measured from here — a calm market rightly goes long without
   * a new version, but not without a live loop.
   */
  readonly confirmedAtMs: number;
  readonly budget: RiskBudget;
  readonly tradingState: TradingState;
  /** States an operator set on one strategy or one instrument, keyed by `scopeKey`; ACTIVE ones left out. */
  readonly scopedStates: ReadonlyMap<string, TradingState>;
  readonly pairs: ReadonlyMap<string, PairLimits>;
  readonly strategies: ReadonlyMap<string, StrategyLimits>;
  /** Overrides keyed by `overrideKey(field, strategy, asset)`; the most recently created wins. */
  readonly overrides: ReadonlyMap<string, LimitOverride>;
  /** What the risk checks need; undefined for a budget without a risk model (checks skipped). */
  readonly risk: SnapshotRisk | undefined;
}

/**
 * The budget's risk limits in the gate's units: variances in currency² (annualized), so a check
 * compares V = xᵀΣx with them directly.
 */
export interface SnapshotRisk {
  readonly modelId: string;
  /** Σ of the budgeted assets, or undefined when the model could not be loaded: the checks then deny. */
  readonly kernel: CovarianceKernel | undefined;
  /** Why the kernel is missing (a row absent or corrupt), for the denial's detail. */
  readonly unavailable: string | undefined;
  readonly capital: number;
  /** Book vol limit and target, fractions of capital (annualized). */
  readonly volLimit: number;
  readonly volTarget: number;
  /** (volLimit · capital)². */
  readonly limitVariance: number;
  /**
   * (forecastVol · capital)²: the variance of the budgeted book. A strategy's share of risk is measured
   * against the larger of this and the book's current variance, so the first orders of a book still
   * being built are not all "100 % of the risk".
   */
  readonly budgetVariance: number;
  readonly tolerance: number;
  /** Risk budget share per strategy. */
  readonly shares: ReadonlyMap<string, number>;
}

/** Key of a (strategy, asset) pair. NUL cannot appear in validated identifiers. */
export const pairKey = (strategy: string, asset: string): string => `${strategy}\u0000${asset}`;
export const scopeKey = (kind: Exclude<TradingScopeKind, 'portfolio'>, name: string): string => `${kind}\u0000${name}`;

/** A trading state set on a strategy or an instrument (db/stores/tradingStates.ts). */
export interface ScopedState {
  readonly kind: Exclude<TradingScopeKind, 'portfolio'>;
  readonly name: string;
  readonly state: TradingState;
}
export const overrideKey = (field: OverrideField, strategy: string | null, asset: string | null): string =>
  `${field}\u0000${strategy ?? '*'}\u0000${asset ?? '*'}`;

export function buildSnapshot(
  stored: BudgetVersion,
  tradingState: TradingState,
  overrides: readonly LimitOverride[],
  heartbeatAtMs?: number,
  /** The model the budget names, or the kernel already built from it (a reload of a known model). */
  riskModel?: RiskModel | CovarianceKernel,
  scoped: readonly ScopedState[] = [],
): PortfolioSnapshot {
  const { budget } = stored;
  const pairs = new Map<string, PairLimits>();
  for (const a of budget.assets) {
    pairs.set(pairKey(a.strategy, a.asset), {
      strategy: a.strategy,
      asset: a.asset,
      maxPositionNotional: a.maxPositionNotional,
      referencePrice: a.referencePrice,
      lotSize: a.lotSize,
    });
  }
  const strategies = new Map<string, StrategyLimits>();
  for (const s of budget.strategies) {
    strategies.set(s.strategy, { strategy: s.strategy, maxGrossNotional: s.maxGrossNotional, maxNetNotional: s.maxNetNotional });
  }
  const byKey = new Map<string, LimitOverride>();
  // Callers pass overrides oldest first, so a later one replaces an earlier one with the same scope.
  for (const o of overrides) byKey.set(overrideKey(o.field, o.strategy, o.asset), o);
  return Object.freeze({
    portfolioId: stored.portfolioId,
    version: stored.version,
    committedAtMs: Date.parse(stored.committedAt),
    confirmedAtMs: Math.max(Date.parse(stored.committedAt), heartbeatAtMs ?? 0),
    budget,
    tradingState,
    scopedStates: new Map(scoped.filter((x) => x.state !== 'ACTIVE').map((x) => [scopeKey(x.kind, x.name), x.state])),
    pairs,
    strategies,
    overrides: byKey,
    risk: snapshotRisk(stored, riskModel),
  });
}

function snapshotRisk(stored: BudgetVersion, model: RiskModel | CovarianceKernel | undefined): SnapshotRisk | undefined {
  const { budget } = stored;
  const limits = budget.riskLimits;
  if (!limits) return undefined;
  const capital = budget.limits.capital;
  let kernel: CovarianceKernel | undefined;
  let unavailable: string | undefined;
  if (!model) unavailable = `risk model ${limits.modelId} of budget v${stored.version} is not in the store`;
  else if (model instanceof CovarianceKernel) kernel = model;
  else {
    try {
      kernel = new CovarianceKernel(loadRiskModel(model));
    } catch (err) {
      unavailable = `risk model ${limits.modelId} of budget v${stored.version} is unusable: ${(err as Error).message}`;
    }
  }
  return {
    modelId: limits.modelId,
    kernel,
    unavailable,
    capital,
    volLimit: limits.volLimit,
    volTarget: budget.volTarget,
    limitVariance: (limits.volLimit * capital) ** 2,
    budgetVariance: (budget.forecastVol * capital) ** 2,
    tolerance: limits.riskBudgetTolerance,
    shares: new Map(budget.strategies.map((s) => [s.strategy, s.riskBudget as number])),
  };
}

/** An override of `field` for the scope, if one is active at `nowMs`; most specific scope first. */
export function activeOverride(
  snapshot: PortfolioSnapshot,
  field: OverrideField,
  strategy: string | null,
  asset: string | null,
  nowMs: number,
): Currency | undefined {
  if (snapshot.overrides.size === 0) return undefined;
  // An override applies only at the scope of the limit it replaces: a portfolio-wide gross override
  // never replaces a strategy's gross limit, a strategy's never a pair's. Position limits may be
  // overridden per pair or for an asset across strategies (the pair-level one wins).
  const scopes: Array<[string | null, string | null]> =
    field === 'maxPositionNotional'
      ? [
          [strategy, asset],
          [null, asset],
        ]
      : [[strategy, asset]];
  for (const [s, a] of scopes) {
    const o = snapshot.overrides.get(overrideKey(field, s, a));
    if (o && nowMs < o.expiresAtMs) return o.value;
  }
  return undefined;
}
