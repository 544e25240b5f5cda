/**
 * The pre-trade checks: a pure function of (order, snapshot, exposures, clock, policy). No I/O.
 *
 * Every check maps to exactly one reason code. Checks split in two kinds:
 * - hard checks (unknown ids, invalid numbers, collar, halt, duplicate id, restricted instrument,
 *   working-order cap):
 *   no smaller order would pass, so SizePosition answers 0;
 * - capacity checks (order notional, position, strategy, gross, net, reduce-only): each yields the
 *   largest quantity it allows, so SizePosition trims to the smallest of them and names that limit.
 *
 * Post-trade limits use the worst case over open reservations (see exposures.ts) and never block an
 * order that does not make a measure worse: when a budget shrinks below current exposure, orders that
 * reduce the breach still pass (limit used = max(limit, current exposure)).
 */
import { type Side, TRADING_STATE_SEVERITY, type TradingState } from '../kinds';
import type { Aggregate, ExposureBook, PairExposure } from './exposures';
import type { Reason } from './reasons';
import { type RiskAssessment, type RiskFigures, assessRisk } from './riskChecks';
import { RiskVectors } from './riskState';
import { activeOverride, pairKey, type PortfolioSnapshot } from './snapshot';

export interface OrderRequest {
  readonly portfolioId: string;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: Side;
  readonly quantity: number;
  readonly price: number;
  /** Empty when sizing without an order id. */
  readonly clientOrderId: string;
}

export interface CheckPolicy {
  /** Budget age up to which trading is normal. */
  readonly staleReduceAfterMs: number;
  /** Budget age after which the portfolio is halted; between the two it is reduce-only. */
  readonly staleHaltAfterMs: number;
  readonly restrictedInstruments: ReadonlySet<string>;
  /**
   * Most working orders (open reservations) a portfolio may hold per replica; an order needing one
   * more is denied RESERVATION_CAP. Bounds the gate's memory. Default 100 000.
   */
  readonly maxWorkingOrders?: number;
}

export const DEFAULT_MAX_WORKING_ORDERS = 100_000;

export interface CheckContext {
  /** Latest snapshot, or undefined when the portfolio has no committed budget. */
  readonly snapshot: PortfolioSnapshot | undefined;
  /** Whether the portfolio exists at all (distinguishes UNKNOWN_PORTFOLIO from NO_BUDGET). */
  readonly portfolioKnown: boolean;
  readonly book: ExposureBook | undefined;
  readonly nowMs: number;
  readonly policy: CheckPolicy;
}

export interface Assessment {
  readonly version: number;
  readonly state: TradingState;
  /** Reasons no positive quantity could pass. */
  readonly hard: readonly Reason[];
  /** Capacity checks: the largest quantity each allows (≥ 0), in check order. */
  readonly capacity: ReadonlyArray<{ readonly reason: Reason; readonly maxQuantity: number; readonly detail: () => string }>;
  readonly details: readonly string[];
  /** The ex-ante risk checks (VOL_LIMIT, RISK_BUDGET), when the budget carries a risk model. */
  readonly risk?: RiskAssessment;
}

export interface Evaluation {
  readonly approved: boolean;
  readonly reasons: readonly Reason[];
  readonly detail: string;
  readonly version: number;
  readonly state: TradingState;
  /** Vol and risk contribution before/after the order, when the risk checks ran. */
  readonly risk?: RiskFigures;
}

export interface Sizing {
  readonly quantity: number;
  /** The limit that bound the size, undefined when the requested quantity fits. */
  readonly binding: Reason | undefined;
  readonly detail: string;
  readonly version: number;
  readonly state: TradingState;
  /** Vol and risk contribution before/after the sized quantity, when the risk checks ran. */
  readonly risk?: RiskFigures;
}

/** Relative tolerance so that a size returned by SizePosition is approved by EvaluateTrade. */
const TOLERANCE = 1e-9;

export function evaluateOrder(order: OrderRequest, ctx: CheckContext): Evaluation {
  const a = assess(order, ctx);
  const reasons = [...a.hard];
  const details = [...a.details];
  for (const c of a.capacity) {
    // Written so that a NaN limit (a malformed budget) denies rather than approves.
    if (!(order.quantity <= c.maxQuantity * (1 + TOLERANCE) + Number.MIN_VALUE)) {
      reasons.push(c.reason);
      details.push(c.detail());
    }
  }
  let risk: RiskFigures | undefined;
  if (a.risk) {
    const r = a.risk.evaluate(order.quantity);
    risk = r.figures;
    for (const f of r.failed) {
      reasons.push(f.reason);
      details.push(f.detail);
    }
  }
  return { approved: reasons.length === 0, reasons, detail: details.join('; '), version: a.version, state: a.state, risk };
}

export function sizeOrder(order: OrderRequest, ctx: CheckContext): Sizing {
  const a = assess(order, ctx);
  if (a.hard.length > 0) return { quantity: 0, binding: a.hard[0], detail: a.details.join('; '), version: a.version, state: a.state };
  let quantity = order.quantity;
  let binding: Reason | undefined;
  let detail = '';
  for (const c of a.capacity) {
    if (!(c.maxQuantity >= quantity)) {
      quantity = Number.isNaN(c.maxQuantity) ? 0 : c.maxQuantity;
      binding = c.reason;
      detail = c.detail();
    }
  }
  quantity = Math.max(0, quantity);
  let risk: RiskFigures | undefined;
  if (a.risk) {
    const r = a.risk.largest(quantity);
    if (r.binding && r.quantity < quantity) {
      // The limit that bound it, with its detail at the requested quantity (what would have broken it).
      binding = r.binding;
      detail = a.risk.evaluate(quantity).failed.find((f) => f.reason === r.binding)?.detail ?? r.binding;
      quantity = r.quantity;
    }
    risk = a.risk.evaluate(quantity).figures;
  }
  return { quantity, binding, detail, version: a.version, state: a.state, risk };
}

/** Effective trading state: the stricter of the operator's state and what budget staleness implies. */
export function effectiveState(snapshot: PortfolioSnapshot, nowMs: number, policy: CheckPolicy): { state: TradingState; stale: boolean } {
  const age = nowMs - snapshot.confirmedAtMs;
  const staleState: TradingState = age > policy.staleHaltAfterMs ? 'HALTED' : age > policy.staleReduceAfterMs ? 'REDUCING' : 'ACTIVE';
  const stale = TRADING_STATE_SEVERITY[staleState] > TRADING_STATE_SEVERITY[snapshot.tradingState];
  return { state: stale ? staleState : snapshot.tradingState, stale };
}

function assess(order: OrderRequest, ctx: CheckContext): Assessment {
  const { snapshot } = ctx;
  if (!snapshot) {
    const reason: Reason = ctx.portfolioKnown ? 'NO_BUDGET' : 'UNKNOWN_PORTFOLIO';
    const detail = ctx.portfolioKnown
      ? `portfolio "${order.portfolioId}" has no committed budget`
      : `unknown portfolio "${order.portfolioId}"`;
    return { version: 0, state: 'HALTED', hard: [reason], capacity: [], details: [detail] };
  }
  const hard: Reason[] = [];
  const details: string[] = [];
  const deny = (reason: Reason, detail: string): void => {
    hard.push(reason);
    details.push(detail);
  };
  const { state, stale } = effectiveState(snapshot, ctx.nowMs, ctx.policy);
  const base = { version: snapshot.version, state };

  const strategy = snapshot.strategies.get(order.strategy);
  if (!strategy) deny('UNKNOWN_STRATEGY', `strategy "${order.strategy}" is not in budget v${snapshot.version}`);
  const pair = snapshot.pairs.get(pairKey(order.strategy, order.instrument));
  if (strategy && !(pair && pair.referencePrice > 0)) {
    deny('UNKNOWN_INSTRUMENT', `instrument "${order.instrument}" is not budgeted for strategy "${order.strategy}"`);
  }
  if (!(order.quantity > 0 && Number.isFinite(order.quantity)))
    deny('INVALID_QUANTITY', `quantity must be finite and positive, got ${order.quantity}`);
  if (!(order.price > 0 && Number.isFinite(order.price))) deny('INVALID_PRICE', `price must be finite and positive, got ${order.price}`);
  if (ctx.policy.restrictedInstruments.has(order.instrument))
    deny('RESTRICTED_INSTRUMENT', `instrument "${order.instrument}" is restricted`);
  if (order.clientOrderId !== '' && ctx.book?.hasOrderId(order.clientOrderId)) {
    deny('DUPLICATE_CLIENT_ORDER_ID', `client order id "${order.clientOrderId}" was already used`);
  }
  const cap = ctx.policy.maxWorkingOrders ?? DEFAULT_MAX_WORKING_ORDERS;
  if (order.clientOrderId !== '' && ctx.book && ctx.book.openReservations >= cap) {
    deny(
      'RESERVATION_CAP',
      `portfolio holds ${ctx.book.openReservations} working orders, the cap: report fills or cancels to release some`,
    );
  }
  if (state === 'HALTED') {
    deny(
      stale ? 'BUDGET_STALE' : 'TRADING_HALTED',
      stale ? `budget v${snapshot.version} is too old: trading halted` : 'portfolio trading is halted',
    );
  }
  if (!strategy || !pair || !(pair.referencePrice > 0)) return { ...base, hard, capacity: [], details };
  if (order.price > 0 && Number.isFinite(order.price)) {
    const collar = snapshot.budget.limits.priceCollar;
    const deviation = Math.abs(order.price / pair.referencePrice - 1);
    if (!(deviation <= collar)) {
      deny(
        'PRICE_COLLAR',
        `price ${order.price} is ${(deviation * 100).toFixed(2)}% from reference ${pair.referencePrice} (collar ${(collar * 100).toFixed(2)}%)`,
      );
    }
  }
  // Capacity checks still run after a hard denial (when the numbers are usable) so EvaluateTrade
  // reports every limit the order breaks, e.g. both PRICE_COLLAR and POSITION_LIMIT.
  const usable = order.quantity > 0 && Number.isFinite(order.quantity) && order.price > 0 && Number.isFinite(order.price);
  const capacity = usable ? capacityChecks(order, ctx, snapshot, pair.referencePrice, state, stale) : [];
  const risk = usable ? riskChecks(order, ctx, snapshot, pair.referencePrice, deny) : undefined;
  return { ...base, hard, capacity, details, risk };
}

/**
 * The risk checks over the portfolio's maintained vectors; none when the budget has no risk model
 * (budgets from before the risk checks). A model the gate could not load, or an instrument outside it,
 * denies (VOL_LIMIT): the budget says risk is checked, and the gate cannot.
 */
function riskChecks(
  order: OrderRequest,
  ctx: CheckContext,
  snapshot: PortfolioSnapshot,
  ref: number,
  deny: (reason: Reason, detail: string) => void,
): RiskAssessment | undefined {
  const risk = snapshot.risk;
  if (!risk) return undefined;
  const kernel = risk.kernel;
  if (!kernel) {
    deny('VOL_LIMIT', risk.unavailable ?? `risk model ${risk.modelId} is unavailable`);
    return undefined;
  }
  const index = kernel.assetIndex.get(order.instrument);
  if (index === undefined) {
    deny('VOL_LIMIT', `instrument "${order.instrument}" is not in the risk model of budget v${snapshot.version}`);
    return undefined;
  }
  const book = ctx.book;
  const vectors = book ? book.riskVectors : new RiskVectors(kernel);
  if (!vectors || vectors.kernel !== kernel) {
    deny('VOL_LIMIT', `risk state of "${order.portfolioId}" is not built for budget v${snapshot.version}`);
    return undefined;
  }
  const e = book?.pair(order.strategy, order.instrument) ?? { position: 0, reservedBuy: 0, reservedSell: 0, price: ref };
  return assessRisk(risk, vectors, order.strategy, index, order.side, e, e.price > 0 ? e.price : ref);
}

/**
 * Largest quantity each capacity limit allows. Exposures are mirrored for a SELL (signs flipped) so
 * every limit reads "|a + q·r| ≤ C" for q ≥ 0, whose largest solution is (C − a) / r.
 */
function capacityChecks(
  order: OrderRequest,
  ctx: CheckContext,
  snapshot: PortfolioSnapshot,
  ref: number,
  state: TradingState,
  stale: boolean,
): Assessment['capacity'] {
  const now = ctx.nowMs;
  const s = order.strategy;
  const asset = order.instrument;
  const buy = order.side === 'BUY';
  const limits = snapshot.budget.limits;
  const pairLimits = snapshot.pairs.get(pairKey(s, asset))!;
  const strategyLimits = snapshot.strategies.get(s)!;
  const e: PairExposure = ctx.book?.pair(s, asset) ?? { strategy: s, asset, position: 0, reservedBuy: 0, reservedSell: 0, price: ref };
  const value = e.price > 0 ? e.price : ref;
  const total: Aggregate = ctx.book?.portfolio ?? { gross: 0, netHigh: 0, netLow: 0 };
  const strat: Aggregate = ctx.book?.strategy(s) ?? { gross: 0, netHigh: 0, netLow: 0 };

  // Same-direction worst-case position in units (mirrored for a sell) and the opposite-side exposure.
  const toward = buy ? e.position + e.reservedBuy : -(e.position - e.reservedSell);
  const away = Math.abs(buy ? e.position - e.reservedSell : e.position + e.reservedBuy) * value;
  const pairGrossNow = Math.max(Math.abs(toward) * value, away);

  const maxOrder = activeOverride(snapshot, 'maxOrderNotional', null, null, now) ?? limits.maxOrderNotional;
  const maxPosition = activeOverride(snapshot, 'maxPositionNotional', s, asset, now) ?? pairLimits.maxPositionNotional;
  const maxStrategyGross = activeOverride(snapshot, 'maxGrossNotional', s, null, now) ?? strategyLimits.maxGrossNotional;
  const maxStrategyNet = activeOverride(snapshot, 'maxNetNotional', s, null, now) ?? strategyLimits.maxNetNotional;
  const maxGross = activeOverride(snapshot, 'maxGrossNotional', null, null, now) ?? limits.maxGrossNotional;
  const maxNet = activeOverride(snapshot, 'maxNetNotional', null, null, now) ?? limits.maxNetNotional;

  /**
   * Largest q with a + q·value ≤ limit when moving `a` (notional) upward. An excess already on this
   * side (a > limit, e.g. after the budget shrank) allows nothing more; an excess on the other side
   * may be reduced through zero but only to +limit — never flipped into a breach on this side.
   */
  const room = (a: number, limit: number): number => Math.max(0, (Math.max(limit, a) - a) / value);
  /** Gross-type limit: the pair's contribution grows as |toward + q|; the rest of the sum is fixed. */
  const grossRoom = (sum: number, limit: number): number => {
    const budget = Math.max(limit, sum) - (sum - pairGrossNow);
    return Math.max(0, budget / value - toward);
  };
  const netHigh = buy ? total.netHigh : -total.netLow;
  const sNetHigh = buy ? strat.netHigh : -strat.netLow;
  const strategyRoom = Math.min(grossRoom(strat.gross, maxStrategyGross), room(sNetHigh, maxStrategyNet));
  const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));
  // Details are built only for a check that fails: the approve path formats no strings.
  const checks: Array<{ reason: Reason; maxQuantity: number; detail: () => string }> = [
    {
      reason: 'MAX_ORDER_NOTIONAL',
      maxQuantity: maxOrder / order.price,
      detail: () => `order notional ${fmt(order.quantity * order.price)} exceeds max order notional ${fmt(maxOrder)}`,
    },
    {
      reason: 'POSITION_LIMIT',
      maxQuantity: room(toward * value, maxPosition),
      detail: () => `post-trade position notional would exceed ${fmt(maxPosition)} for ${s}/${asset}`,
    },
    {
      reason: 'STRATEGY_BUDGET',
      maxQuantity: strategyRoom,
      detail: () => `strategy "${s}" exposure would exceed its budget (gross ${fmt(maxStrategyGross)}, net ${fmt(maxStrategyNet)})`,
    },
    {
      reason: 'GROSS_EXPOSURE',
      maxQuantity: grossRoom(total.gross, maxGross),
      detail: () => `portfolio gross exposure would exceed ${fmt(maxGross)}`,
    },
    { reason: 'NET_EXPOSURE', maxQuantity: room(netHigh, maxNet), detail: () => `portfolio net exposure would exceed ${fmt(maxNet)}` },
  ];
  if (state === 'REDUCING') {
    // Only orders that shrink the position toward zero without flipping it; pending same-side
    // reservations have already used part of that room.
    checks.push({
      reason: stale ? 'BUDGET_STALE' : 'REDUCE_ONLY',
      maxQuantity: Math.max(0, -toward),
      detail: () =>
        stale
          ? `budget v${snapshot.version} is stale: only risk-reducing orders allowed`
          : 'portfolio is reducing: only risk-reducing orders allowed',
    });
  }
  return checks;
}
