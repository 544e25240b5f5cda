/**
 * The strategies compared in one run. Every one of them decides at a close from data up to that close
 * (through the simulator's `MarketCursor`) and trades at the next close.
 *
 * - equal-weight: 1/n of NAV in each eligible asset, fully invested, rebalanced on the calendar.
 * - static-erc: equal-risk-contribution weights from the production allocator, fully invested, calendar.
 * - static-erc-vol-matched: static-erc scaled by one constant so its realized vol equals the dynamic book's
 *   (ex post, the fair comparison: same risk taken, different timing of it).
 * - vol-target: the production engine with a single regime (the calmest one's policy), i.e. vol
 *   targeting and caps without regime detection.
 * - dynamic: the production engine with the regime detected day by day (filtered, walk-forward).
 */
import type { RiskBudget } from '../risk/budget';
import type { RiskConfig } from '../risk/config';
import { equalRiskContribution } from '../risk/allocation';
import type { CovarianceMatrix } from '../risk/covariance';
import { buildBudgetWithModel, estimateRisk } from '../risk/engine';
import type { RiskModel } from '../risk/riskModel';
import type { PriceTable } from '../risk/timeseries';
import { type CalendarPeriod, startsPeriod } from './schedule';
import type { BookState, MarketCursor, Strategy, TargetPositions } from './simulator';
import { configuredAssets, eligibleUniverse, expandWeights, pointInTimeConfig, type Universe } from './universe';

/** Weights over an eligible universe, summing to 1 (a fully invested book). */
export type BookAllocator = (universe: Universe) => readonly number[];

/** A calendar-rebalanced, fully invested book (equal weight, static ERC). */
export function staticStrategy(name: string, allocate: BookAllocator, config: RiskConfig, period: CalendarPeriod): Strategy {
  const allowed = configuredAssets(config);
  let invested = false;
  return {
    name,
    decide(market: MarketCursor): TargetPositions | undefined {
      // The first decision is taken at once, so every book is invested from the same day.
      if (invested && !startsPeriod(market.table.dates, market.today, period)) return undefined;
      const universe = eligibleUniverse(market, config.lookbackDays, allowed);
      if (universe.indices.length === 0) return undefined;
      invested = true;
      return { weights: expandWeights(universe, allocate(universe), market.table.assets.length) };
    },
  };
}

export const equalWeights: BookAllocator = (universe) => universe.indices.map(() => 1 / universe.indices.length);

/** The same decisions as `inner`, with every weight multiplied by `scale` (the rest in cash). */
export function scaledStrategy(name: string, inner: Strategy, scale: number): Strategy {
  return {
    name,
    decide(market: MarketCursor, book: BookState): TargetPositions | undefined {
      const d = inner.decide(market, book);
      return d && { weights: d.weights.map((w) => w * scale), label: d.label };
    },
  };
}

/** What the regime detector says at a close: the declared regime and, when available, regime probabilities. */
export interface DeclaredRegime {
  readonly regime: string;
  readonly probabilities?: readonly number[];
}

/** Feeds the engine its regime. Called every day in order; implementations catch up lazily. */
export interface RegimeSource {
  read(market: MarketCursor): DeclaredRegime;
}

export const fixedRegime = (regime: string): RegimeSource => ({ read: () => ({ regime }) });

/** One recomputed budget, kept for the report (gross leverage, regime, forecast vol). */
export interface BudgetRecord {
  readonly day: number;
  readonly regime: string;
  readonly grossLeverage: number;
  readonly forecastVol: number;
  readonly reason: string;
}

/** Decides whether to recompute the budget today, and why (undefined = keep the book). */
export type TriggerCheck = (
  market: MarketCursor,
  book: BookState,
  reading: DeclaredRegime,
  previous: RiskBudget | undefined,
) => string | undefined;

/**
 * Turns a budget into the weights the book trades to (universe order). The default takes the budget's
 * targets as they are; a router may pass the rebalancing orders through the gate's checks first
 * (backtest/gateRouting.ts).
 */
export type BookRouter = (budget: RiskBudget, riskModel: RiskModel, universe: Universe, book: BookState) => number[];

export interface EngineStrategy extends Strategy {
  readonly budgets: readonly BudgetRecord[];
  /** Regime reading of every day the strategy was consulted (index = day; undefined before). */
  readonly readings: readonly (DeclaredRegime | undefined)[];
}

/**
 * A book sized by the production engine: `buildRiskBudget` on the trailing window, with the regime from
 * `regimes` and the previous budget anchoring the leverage step limit. Position weights of NAV are the
 * budget's target notionals / capital, summed per asset across strategies.
 */
export function engineStrategy(
  name: string,
  config: RiskConfig,
  regimes: RegimeSource,
  shouldRebalance: TriggerCheck,
  route: BookRouter = (budget, _model, universe) => budgetWeights(budget, universe),
): EngineStrategy {
  const budgets: BudgetRecord[] = [];
  const readings: (DeclaredRegime | undefined)[] = [];
  let previous: RiskBudget | undefined;
  const allowed = configuredAssets(config);
  return {
    name,
    budgets,
    readings,
    decide(market: MarketCursor, book: BookState): TargetPositions | undefined {
      const reading = regimes.read(market);
      readings[market.today] = reading;
      const reason = shouldRebalance(market, book, reading, previous);
      if (reason === undefined) return undefined;
      const universe = eligibleUniverse(market, config.lookbackDays, allowed);
      if (universe.indices.length === 0) return undefined;
      const { budget, riskModel } = buildBudgetWithModel({
        portfolioId: name,
        asOf: market.table.dates[market.today],
        prices: universe.window,
        regime: reading.regime,
        config: pointInTimeConfig(config, universe),
        previous,
      });
      previous = budget;
      budgets.push({
        day: market.today,
        regime: budget.regime,
        grossLeverage: budget.limits.grossLeverage,
        forecastVol: budget.forecastVol,
        reason,
      });
      return {
        weights: expandWeights(universe, route(budget, riskModel, universe, book), market.table.assets.length),
        label: budget.regime,
      };
    },
  };
}

/** Weight of NAV per eligible asset: Σ target notional / capital over the budget's (strategy, asset) pairs. */
export function budgetWeights(budget: RiskBudget, universe: Universe): number[] {
  const position = new Map(universe.window.assets.map((a, k) => [a, k]));
  const out = new Array<number>(universe.indices.length).fill(0);
  for (const a of budget.assets) {
    const k = position.get(a.asset);
    if (k === undefined) throw new Error(`budget holds ${a.asset}, which is not in the eligible universe`);
    out[k] += a.targetNotional / budget.limits.capital;
  }
  return out;
}

/** Calendar rule: the first budget at once, then recompute on the first trading day of each period. */
export const calendarCheck =
  (period: CalendarPeriod): TriggerCheck =>
  (market, _book, _reading, previous) => {
    if (!previous) return 'initial budget';
    return startsPeriod(market.table.dates, market.today, period) ? `calendar ${period}` : undefined;
  };

/** Annualized covariance of a price window exactly as the engine estimates it (`estimateRisk`). */
export function windowCovariance(window: PriceTable, config: RiskConfig): CovarianceMatrix<'annualized'> {
  return estimateRisk(window, config).estimate.covariance;
}

/** Equal risk contribution over the eligible assets, on the covariance the engine would estimate. */
export function ercAllocator(config: RiskConfig): BookAllocator {
  return (universe) => {
    const covariance = windowCovariance(universe.window, config);
    if (covariance.assets.length !== universe.indices.length)
      throw new Error(`static-erc: eligible assets were dropped from the estimation window`);
    return Array.from(equalRiskContribution(covariance).weights);
  };
}
