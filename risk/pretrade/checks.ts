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
import { type Side, TRADING_STATE_SEVERITY, type TradingScopeKind, type TradingState } from '../kinds';
import type { Aggregate, ExposureBook, PairExposure } from './exposures';
import { roundDownToLots } from './lots';
import type { Explanation, LimitMeasure, LimitScope, Reason } from './reasons';
import { type RiskAssessment, type RiskFigures, assessRisk } from './riskChecks';
import { RiskVectors } from './riskState';
import { activeOverride, pairKey, type PortfolioSnapshot, scopeKey } from './snapshot';
import { DEFAULT_WARNING_LEVEL, WARNED_REASONS } from './warnings';

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
  /**
   * Fraction of a limit at which an approved order is flagged (Evaluation.warnings) before the limit
   * itself denies: default 0.8; a value outside (0, 1) turns warnings off.
   */
  readonly warningLevel?: number;
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

/** One capacity check: the largest quantity it allows, and (built only when it fails) its sentence and fields. */
export interface CapacityCheck {
  readonly reason: Reason;
  readonly maxQuantity: number;
  readonly detail: () => string;
  /** The structured fields at quantity q (the post-trade value is that of q units). */
  readonly explain: (q: number) => Explanation;
  /**
   * |post-trade| / limit at quantity q, for the cumulative limits the warning level watches: plain
   * arithmetic, so an approval checks its warnings without building an explanation per limit.
   */
  readonly usage?: (q: number) => number;
}

export interface Assessment {
  readonly version: number;
  readonly state: TradingState;
  /** Reasons no positive quantity could pass, with their fields. */
  readonly hard: readonly Explanation[];
  /** Capacity checks: the largest quantity each allows (≥ 0), in check order. */
  readonly capacity: readonly CapacityCheck[];
  readonly details: readonly string[];
  /** The ex-ante risk checks (VOL_LIMIT, RISK_BUDGET), when the budget carries a risk model. */
  readonly risk?: RiskAssessment;
}

export interface Evaluation {
  readonly approved: boolean;
  readonly reasons: readonly Reason[];
  /** One per reason, in the same order: the reason as structured fields. */
  readonly explanations: readonly Explanation[];
  readonly detail: string;
  readonly version: number;
  readonly state: TradingState;
  /** Vol and risk contribution before/after the order, when the risk checks ran. */
  readonly risk?: RiskFigures;
  /** An approval's limits at or past the warning level (WARNED_REASONS), with their post-trade values; else empty. */
  readonly warnings: readonly Explanation[];
}

export interface Sizing {
  readonly quantity: number;
  /** The limit that bound the size, undefined when the requested quantity fits. */
  readonly binding: Reason | undefined;
  /** The binding limit as structured fields, at the requested quantity (what would have broken it). */
  readonly explanation: Explanation | undefined;
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
  const explanations = [...a.hard];
  const details = [...a.details];
  for (const c of a.capacity) {
    // Written so that a NaN limit (a malformed budget) denies rather than approves.
    if (!(order.quantity <= c.maxQuantity * (1 + TOLERANCE) + Number.MIN_VALUE)) {
      explanations.push(c.explain(order.quantity));
      details.push(c.detail());
    }
  }
  let risk: RiskFigures | undefined;
  if (a.risk) {
    const r = a.risk.evaluate(order.quantity);
    risk = r.figures;
    for (const f of r.failed) {
      explanations.push(riskExplanation(f.reason, r.figures, order));
      details.push(f.detail);
    }
  }
  const reasons = explanations.map((e) => e.reason);
  const approved = reasons.length === 0;
  const warnings = approved ? limitWarnings(a, order, risk, ctx.policy.warningLevel ?? DEFAULT_WARNING_LEVEL) : NO_WARNINGS;
  return { approved, reasons, explanations, detail: details.join('; '), version: a.version, state: a.state, risk, warnings };
}

const NO_WARNINGS: readonly Explanation[] = Object.freeze([]);

/** The cumulative limits an approved order takes to `level` or beyond (|post-trade| ≥ level × limit). */
function limitWarnings(a: Assessment, order: OrderRequest, risk: RiskFigures | undefined, level: number): readonly Explanation[] {
  if (!(level > 0 && level < 1)) return NO_WARNINGS;
  let warnings: Explanation[] | undefined;
  const check = (e: Explanation): void => {
    if (e.limit !== undefined && e.postTrade !== undefined && Math.abs(e.postTrade) >= level * e.limit) (warnings ??= []).push(e);
  };
  const q = order.quantity;
  for (const c of a.capacity) if (c.usage && c.usage(q) >= level && WARNED_REASONS.includes(c.reason)) check(c.explain(q));
  if (risk && risk.volAfter >= level * risk.volLimit) check(riskExplanation('VOL_LIMIT', risk, order));
  if (risk && risk.contributionAfter >= level * risk.contributionLimit) check(riskExplanation('RISK_BUDGET', risk, order));
  return warnings ?? NO_WARNINGS;
}

export function sizeOrder(order: OrderRequest, ctx: CheckContext): Sizing {
  const a = assess(order, ctx);
  if (a.hard.length > 0) {
    const first = a.hard[0];
    return { quantity: 0, binding: first.reason, explanation: first, detail: a.details.join('; '), version: a.version, state: a.state };
  }
  let quantity = order.quantity;
  let binding: Reason | undefined;
  let explanation: Explanation | undefined;
  let detail = '';
  for (const c of a.capacity) {
    if (!(c.maxQuantity >= quantity)) {
      quantity = Number.isNaN(c.maxQuantity) ? 0 : c.maxQuantity;
      binding = c.reason;
      detail = c.detail();
      explanation = c.explain(order.quantity);
    }
  }
  quantity = Math.max(0, quantity);
  let risk: RiskFigures | undefined;
  if (a.risk) {
    const r = a.risk.largest(quantity);
    if (r.binding && r.quantity < quantity) {
      // The limit that bound it, with its detail at the requested quantity (what would have broken it).
      binding = r.binding;
      const atRequested = a.risk.evaluate(quantity);
      detail = atRequested.failed.find((f) => f.reason === r.binding)?.detail ?? r.binding;
      explanation = riskExplanation(r.binding, atRequested.figures, order);
      quantity = r.quantity;
    }
  }
  const lotSize = ctx.snapshot?.pairs.get(pairKey(order.strategy, order.instrument))?.lotSize;
  if (lotSize) {
    const whole = roundDownToLots(quantity, lotSize);
    // The slack may round a float hair up to a whole lot: keep it only if it is still within the request and passes.
    quantity = whole <= quantity || (whole <= order.quantity && fits(a, whole)) ? whole : whole - lotSize;
    if (quantity < order.quantity && binding === undefined) detail = `rounded down to whole lots of ${lotSize}`;
  }
  if (a.risk) risk = a.risk.evaluate(quantity).figures;
  return { quantity, binding, explanation, detail, version: a.version, state: a.state, risk };
}

/** The portfolio's effective trading state: the stricter of the operator's state and what budget staleness implies. */
export function effectiveState(snapshot: PortfolioSnapshot, nowMs: number, policy: CheckPolicy): { state: TradingState; stale: boolean } {
  const age = nowMs - snapshot.confirmedAtMs;
  const staleState: TradingState = age > policy.staleHaltAfterMs ? 'HALTED' : age > policy.staleReduceAfterMs ? 'REDUCING' : 'ACTIVE';
  const stale = TRADING_STATE_SEVERITY[staleState] > TRADING_STATE_SEVERITY[snapshot.tradingState];
  return { state: stale ? staleState : snapshot.tradingState, stale };
}

/** What governs one order: the strictest of its portfolio's state (with staleness), its strategy's and its instrument's. */
export interface OrderState {
  readonly state: TradingState;
  readonly stale: boolean;
  /** The scope whose state won (the broadest on a tie). */
  readonly scope: TradingScopeKind;
}

export function orderState(
  snapshot: PortfolioSnapshot,
  order: Pick<OrderRequest, 'strategy' | 'instrument'>,
  nowMs: number,
  policy: CheckPolicy,
): OrderState {
  const portfolio = effectiveState(snapshot, nowMs, policy);
  let result: OrderState = { state: portfolio.state, stale: portfolio.stale, scope: 'portfolio' };
  if (snapshot.scopedStates.size === 0) return result;
  for (const [kind, name] of [
    ['strategy', order.strategy],
    ['instrument', order.instrument],
  ] as const) {
    const state = snapshot.scopedStates.get(scopeKey(kind, name));
    if (state && TRADING_STATE_SEVERITY[state] > TRADING_STATE_SEVERITY[result.state]) result = { state, stale: false, scope: kind };
  }
  return result;
}

/** The scope of a trading state, as a denial's explanation and sentence name it. */
const STATE_SCOPE: Readonly<Record<TradingScopeKind, LimitScope>> = {
  portfolio: 'PORTFOLIO',
  strategy: 'STRATEGY',
  instrument: 'INSTRUMENT',
};
const scopeWords = (scope: TradingScopeKind, order: OrderRequest): string =>
  scope === 'portfolio' ? 'portfolio' : scope === 'strategy' ? `strategy "${order.strategy}"` : `instrument "${order.instrument}"`;

function assess(order: OrderRequest, ctx: CheckContext): Assessment {
  const { snapshot } = ctx;
  if (!snapshot) {
    const reason: Reason = ctx.portfolioKnown ? 'NO_BUDGET' : 'UNKNOWN_PORTFOLIO';
    const detail = ctx.portfolioKnown
      ? `portfolio "${order.portfolioId}" has no committed budget`
      : `unknown portfolio "${order.portfolioId}"`;
    return { version: 0, state: 'HALTED', hard: [explained(reason, 'PORTFOLIO', order)], capacity: [], details: [detail] };
  }
  const hard: Explanation[] = [];
  const details: string[] = [];
  const deny = (reason: Reason, detail: string, fields?: Fields): void => {
    hard.push(explained(reason, HARD_SCOPE[reason], order, fields));
    details.push(detail);
  };
  const { state, stale, scope } = orderState(snapshot, order, ctx.nowMs, ctx.policy);

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
    // The same order again is a retry (GateCore answers it with the original decision before the
    // checks; here only SizePosition sees it). Another order under a used id is refused as such.
    const same = ctx.book.sameOrder(order);
    if (same === false) {
      deny('CLIENT_ORDER_ID_REUSED', `client order id "${order.clientOrderId}" was approved for a different order`);
    } else {
      deny('DUPLICATE_CLIENT_ORDER_ID', `client order id "${order.clientOrderId}" was already used`);
    }
  }
  const cap = ctx.policy.maxWorkingOrders ?? DEFAULT_MAX_WORKING_ORDERS;
  if (order.clientOrderId !== '' && ctx.book && ctx.book.openReservations >= cap) {
    const open = ctx.book.openReservations;
    deny('RESERVATION_CAP', `portfolio holds ${open} working orders, the cap: report fills or cancels to release some`, {
      measure: 'WORKING_ORDERS',
      limit: cap,
      current: open,
      postTrade: open + 1,
    });
  }
  if (state === 'HALTED' && stale) deny('BUDGET_STALE', `budget v${snapshot.version} is too old: trading halted`);
  if (state === 'HALTED' && !stale) {
    // The explanation names the scope of the halt (a halted strategy or instrument, or the portfolio).
    hard.push(explained('TRADING_HALTED', STATE_SCOPE[scope], order));
    details.push(`${scopeWords(scope, order)} trading is halted`);
  }
  if (!strategy || !pair || !(pair.referencePrice > 0)) return { version: snapshot.version, state, hard, capacity: [], details };
  if (order.price > 0 && Number.isFinite(order.price)) {
    const collar = snapshot.budget.limits.priceCollar;
    const deviation = Math.abs(order.price / pair.referencePrice - 1);
    if (!(deviation <= collar)) {
      deny(
        'PRICE_COLLAR',
        `price ${order.price} is ${(deviation * 100).toFixed(2)}% from reference ${pair.referencePrice} (collar ${(collar * 100).toFixed(2)}%)`,
        { measure: 'PRICE_DEVIATION', limit: collar, postTrade: deviation },
      );
    }
  }
  // Capacity checks still run after a hard denial (when the numbers are usable) so EvaluateTrade
  // reports every limit the order breaks, e.g. both PRICE_COLLAR and POSITION_LIMIT.
  const usable = order.quantity > 0 && Number.isFinite(order.quantity) && order.price > 0 && Number.isFinite(order.price);
  const capacity = usable ? capacityChecks(order, ctx, snapshot, pair.referencePrice, { state, stale, scope }) : [];
  const risk = usable ? riskChecks(order, ctx, snapshot, pair.referencePrice, deny) : undefined;
  return { version: snapshot.version, state, hard, capacity, details, risk };
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
  deny: (reason: Reason, detail: string, fields?: Fields) => void,
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
  { state, stale, scope }: OrderState,
): CapacityCheck[] {
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

  const orderOverride = activeOverride(snapshot, 'maxOrderNotional', null, null, now);
  const positionOverride = activeOverride(snapshot, 'maxPositionNotional', s, asset, now);
  const strategyGrossOverride = activeOverride(snapshot, 'maxGrossNotional', s, null, now);
  const strategyNetOverride = activeOverride(snapshot, 'maxNetNotional', s, null, now);
  const grossOverride = activeOverride(snapshot, 'maxGrossNotional', null, null, now);
  const netOverride = activeOverride(snapshot, 'maxNetNotional', null, null, now);
  const maxOrder = orderOverride ?? limits.maxOrderNotional;
  const maxPosition = positionOverride ?? pairLimits.maxPositionNotional;
  const maxStrategyGross = strategyGrossOverride ?? strategyLimits.maxGrossNotional;
  const maxStrategyNet = strategyNetOverride ?? strategyLimits.maxNetNotional;
  const maxGross = grossOverride ?? limits.maxGrossNotional;
  const maxNet = netOverride ?? limits.maxNetNotional;

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
  const strategyGrossRoom = grossRoom(strat.gross, maxStrategyGross);
  const strategyNetRoom = room(sNetHigh, maxStrategyNet);
  const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));

  // The fields of each check, at q units (built only for a check that fails, like the sentences).
  /** The pair's worst-case gross notional after q units. */
  const pairGrossAfter = (q: number): number => Math.max(Math.abs(toward + q) * value, away);
  /** A gross-type sum after q units: only this pair's contribution moves. */
  const grossAfter = (sum: number, q: number): number => sum - pairGrossNow + pairGrossAfter(q);
  /** Net notional on the order's side (a buy raises the high end, a sell lowers the low end), signed. */
  const netNow = (a: Aggregate): number => (buy ? a.netHigh : a.netLow);
  const netAfter = (a: Aggregate, q: number): number => netNow(a) + (buy ? q : -q) * value;
  const limitFields = (reason: Reason, scope: LimitScope, measure: LimitMeasure, limit: number, overridden: unknown) => ({
    reason,
    scope,
    strategy: scope === 'PORTFOLIO' ? '' : s,
    instrument: scope === 'INSTRUMENT' ? asset : '',
    measure,
    limit,
    overridden: overridden !== undefined,
  });
  const strategyGrossBinds = strategyGrossRoom <= strategyNetRoom;

  // Details are built only for a check that fails: the approve path formats no strings.
  const checks: CapacityCheck[] = [
    {
      reason: 'MAX_ORDER_NOTIONAL',
      maxQuantity: maxOrder / order.price,
      detail: () => `order notional ${fmt(order.quantity * order.price)} exceeds max order notional ${fmt(maxOrder)}`,
      explain: (q) => ({
        ...limitFields('MAX_ORDER_NOTIONAL', 'PORTFOLIO', 'ORDER_NOTIONAL', maxOrder, orderOverride),
        postTrade: q * order.price,
      }),
    },
    {
      reason: 'POSITION_LIMIT',
      maxQuantity: room(toward * value, maxPosition),
      detail: () => `post-trade position notional would exceed ${fmt(maxPosition)} for ${s}/${asset}`,
      explain: (q) => ({
        ...limitFields('POSITION_LIMIT', 'INSTRUMENT', 'POSITION_NOTIONAL', maxPosition, positionOverride),
        current: pairGrossNow,
        postTrade: pairGrossAfter(q),
      }),
      usage: (q) => pairGrossAfter(q) / maxPosition,
    },
    {
      reason: 'STRATEGY_BUDGET',
      maxQuantity: Math.min(strategyGrossRoom, strategyNetRoom),
      detail: () => `strategy "${s}" exposure would exceed its budget (gross ${fmt(maxStrategyGross)}, net ${fmt(maxStrategyNet)})`,
      // The strategy has two limits; the fields are those of the one with less room.
      explain: (q) =>
        strategyGrossBinds
          ? {
              ...limitFields('STRATEGY_BUDGET', 'STRATEGY', 'GROSS_NOTIONAL', maxStrategyGross, strategyGrossOverride),
              current: strat.gross,
              postTrade: grossAfter(strat.gross, q),
            }
          : {
              ...limitFields('STRATEGY_BUDGET', 'STRATEGY', 'NET_NOTIONAL', maxStrategyNet, strategyNetOverride),
              current: netNow(strat),
              postTrade: netAfter(strat, q),
            },
      usage: (q) => (strategyGrossBinds ? grossAfter(strat.gross, q) / maxStrategyGross : Math.abs(netAfter(strat, q)) / maxStrategyNet),
    },
    {
      reason: 'GROSS_EXPOSURE',
      maxQuantity: grossRoom(total.gross, maxGross),
      detail: () => `portfolio gross exposure would exceed ${fmt(maxGross)}`,
      explain: (q) => ({
        ...limitFields('GROSS_EXPOSURE', 'PORTFOLIO', 'GROSS_NOTIONAL', maxGross, grossOverride),
        current: total.gross,
        postTrade: grossAfter(total.gross, q),
      }),
      usage: (q) => grossAfter(total.gross, q) / maxGross,
    },
    {
      reason: 'NET_EXPOSURE',
      maxQuantity: room(netHigh, maxNet),
      detail: () => `portfolio net exposure would exceed ${fmt(maxNet)}`,
      explain: (q) => ({
        ...limitFields('NET_EXPOSURE', 'PORTFOLIO', 'NET_NOTIONAL', maxNet, netOverride),
        current: netNow(total),
        postTrade: netAfter(total, q),
      }),
      usage: (q) => Math.abs(netAfter(total, q)) / maxNet,
    },
  ];
  if (state === 'REDUCING') {
    // Only orders that shrink the position toward zero without flipping it; pending same-side
    // reservations have already used part of that room.
    const reason: Reason = stale ? 'BUDGET_STALE' : 'REDUCE_ONLY';
    checks.push({
      reason,
      maxQuantity: Math.max(0, -toward),
      // The limit is the largest quantity that only reduces the pair's position.
      explain: (q) => ({ ...limitFields(reason, 'INSTRUMENT', 'ORDER_QUANTITY', Math.max(0, -toward), undefined), postTrade: q }),
      detail: () =>
        stale
          ? `budget v${snapshot.version} is stale: only risk-reducing orders allowed`
          : `${scopeWords(scope, order)} is reducing: only risk-reducing orders allowed`,
    });
  }
  return checks;
}

/** The numbers of a hard reason that has a limit (collar, working-order cap). */
type Fields = Pick<Explanation, 'measure' | 'limit' | 'current' | 'postTrade'>;

/** The scope each reason reports when it is a hard denial (capacity reasons set theirs in capacityChecks). */
const HARD_SCOPE: Readonly<Record<Reason, LimitScope>> = {
  UNKNOWN_PORTFOLIO: 'PORTFOLIO',
  NO_BUDGET: 'PORTFOLIO',
  UNKNOWN_STRATEGY: 'STRATEGY',
  UNKNOWN_INSTRUMENT: 'INSTRUMENT',
  INVALID_QUANTITY: 'INSTRUMENT',
  INVALID_PRICE: 'INSTRUMENT',
  MAX_ORDER_NOTIONAL: 'PORTFOLIO',
  PRICE_COLLAR: 'INSTRUMENT',
  POSITION_LIMIT: 'INSTRUMENT',
  STRATEGY_BUDGET: 'STRATEGY',
  GROSS_EXPOSURE: 'PORTFOLIO',
  NET_EXPOSURE: 'PORTFOLIO',
  TRADING_HALTED: 'PORTFOLIO',
  REDUCE_ONLY: 'PORTFOLIO',
  DUPLICATE_CLIENT_ORDER_ID: 'PORTFOLIO',
  CLIENT_ORDER_ID_REUSED: 'PORTFOLIO',
  RESTRICTED_INSTRUMENT: 'INSTRUMENT',
  BUDGET_STALE: 'PORTFOLIO',
  RESERVATION_CAP: 'PORTFOLIO',
  VOL_LIMIT: 'PORTFOLIO',
  RISK_BUDGET: 'STRATEGY',
  ORDER_RATE_THROTTLED: 'PORTFOLIO',
};

function explained(reason: Reason, scope: LimitScope, order: OrderRequest, fields?: Fields): Explanation {
  return {
    reason,
    scope,
    strategy: scope === 'PORTFOLIO' ? '' : order.strategy,
    instrument: scope === 'INSTRUMENT' ? order.instrument : '',
    ...fields,
    overridden: false,
  };
}

/** VOL_LIMIT (the book's vol) and RISK_BUDGET (the strategy's risk share) from the risk figures. */
function riskExplanation(reason: Reason, f: RiskFigures, order: OrderRequest): Explanation {
  return reason === 'RISK_BUDGET'
    ? explained(reason, 'STRATEGY', order, {
        measure: 'RISK_SHARE',
        limit: f.contributionLimit,
        current: f.contributionBefore,
        postTrade: f.contributionAfter,
      })
    : explained(reason, 'PORTFOLIO', order, { measure: 'VOL', limit: f.volLimit, current: f.volBefore, postTrade: f.volAfter });
}

/** Does `quantity` pass every capacity and risk check of an assessment (EvaluateTrade's rule)? */
function fits(a: Assessment, quantity: number): boolean {
  if (!a.capacity.every((c) => quantity <= c.maxQuantity * (1 + TOLERANCE) + Number.MIN_VALUE)) return false;
  return !a.risk || a.risk.evaluate(quantity).failed.length === 0;
}
