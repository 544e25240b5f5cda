/**
 * The backtest's rebalancing orders through the gate's own checks (risk/pretrade, the pure functions,
 * no server): each new budget becomes a snapshot, the book's current positions an ExposureBook, and the
 * move to the budget's targets the orders an OMS would send, each sized with SizePosition (sliced at the
 * max order notional), at the reference price. Two ways of sending them:
 * - `sequenced`: risk-reducing orders first, each filled before the next is sized;
 * - `batch`: the whole plan at once in budget order, every order reserved before any fills — the gate
 *   then counts the buys on top of positions the sells have not reduced yet (its worst case).
 * What a limit trims stays untraded until the next budget.
 *
 * With `riskChecks: false` the budget is stripped of its risk model, so the same routing runs the
 * notional checks only: the comparison isolates what VOL_LIMIT and RISK_BUDGET change.
 */
import type { RiskBudget } from '../risk/budget';
import { type CheckContext, type OrderRequest, sizeOrder } from '../risk/pretrade/checks';
import { ExposureBook } from '../risk/pretrade/exposures';
import type { Reason } from '../risk/pretrade/reasons';
import { buildSnapshot, pairKey } from '../risk/pretrade/snapshot';
import type { BookRouter } from './strategies';

export interface GateRoutingStats {
  readonly rebalances: number;
  /** Orders sent (one per pair to move) and the SizePosition calls they took (slices). */
  orders: number;
  slices: number;
  /** Orders a limit cut short (or to nothing), by the binding reason (MAX_ORDER_NOTIONAL slices are not counted). */
  readonly limited: Partial<Record<Reason, number>>;
  /** Notional the limits left untraded, in units of capital (summed over rebalances). */
  untradedNotional: number;
  /** Highest ex-ante vol of the book after a rebalance over the budget's vol limit (risk checks on only). */
  maxVolToLimit: number;
}

export interface GateRouter {
  readonly route: BookRouter;
  readonly stats: GateRoutingStats;
}

const POLICY = { staleReduceAfterMs: Infinity, staleHaltAfterMs: Infinity, restrictedInstruments: new Set<string>() };
const MAX_SLICES = 1_000;

export type OrderFlow = 'sequenced' | 'batch';

export function gateRouter(name: string, opts: { readonly riskChecks: boolean; readonly flow: OrderFlow }): GateRouter {
  const stats: GateRoutingStats & { rebalances: number } = {
    rebalances: 0,
    orders: 0,
    slices: 0,
    limited: {},
    untradedNotional: 0,
    maxVolToLimit: 0,
  };
  /** Pair notionals (units of capital) as executed, and the asset weights of NAV they made. */
  let executed = new Map<string, { strategy: string; asset: string; notional: number }>();
  let executedWeights = new Map<string, number>();

  const route: BookRouter = (budget, riskModel, universe, book) => {
    const capital = budget.limits.capital;
    const gated: RiskBudget = opts.riskChecks ? budget : { ...budget, riskLimits: undefined };
    const snapshot = buildSnapshot(
      { portfolioId: name, version: ++stats.rebalances, committedAt: new Date(0).toISOString(), budget: gated },
      'ACTIVE',
      [],
      undefined,
      opts.riskChecks ? riskModel : undefined,
    );
    const exposures = new ExposureBook(name);
    exposures.reprice(snapshot);
    const column = new Map(universe.window.assets.map((a, k) => [a, universe.indices[k]]));
    // Today's pair positions: as executed, drifted with their asset's weight of NAV since.
    const current = new Map<string, number>();
    for (const [key, p] of executed) {
      const at = executedWeights.get(p.asset) ?? 0;
      const col = column.get(p.asset);
      const now = col === undefined ? 0 : book.weights[col];
      current.set(key, at !== 0 ? p.notional * (now / at) : 0);
    }
    let fills = 0;
    const fill = (strategy: string, asset: string, units: number, price: number): void => {
      if (units === 0) return;
      exposures.applyFill({
        strategy,
        asset,
        side: units > 0 ? 'BUY' : 'SELL',
        clientOrderId: `${name}-${stats.rebalances}-${++fills}`,
        fillId: '',
        quantity: Math.abs(units),
        price,
        orderDone: true,
        nowMs: 0,
      });
    };
    for (const a of budget.assets)
      fill(a.strategy, a.asset, (current.get(pairKey(a.strategy, a.asset)) ?? 0) / a.referencePrice, a.referencePrice);
    // The book as it stands, settled once: the plan's orders then queue their moves as the gate's do.
    exposures.settleRisk();

    // Risk-reducing moves first (toward zero), then the rest, each in budget order.
    const moves = budget.assets
      .map((a) => ({ a, from: current.get(pairKey(a.strategy, a.asset)) ?? 0, to: a.targetNotional as number }))
      .filter((m) => Math.abs(m.to - m.from) > 1e-9 * capital);
    const reducing = (m: (typeof moves)[number]): boolean => Math.abs(m.to) < Math.abs(m.from) && Math.sign(m.to) !== -Math.sign(m.from);
    const ctx: CheckContext = { snapshot, portfolioKnown: true, book: exposures, nowMs: 0, policy: POLICY };
    const pending: Array<{ id: string; strategy: string; asset: string; units: number; price: number }> = [];
    /** An approved size: filled at once (sequenced) or reserved now and filled after the whole plan (batch). */
    const execute = (strategy: string, asset: string, units: number, price: number): void => {
      if (units === 0) return;
      if (opts.flow === 'sequenced') return fill(strategy, asset, units, price);
      const id = `${name}-${stats.rebalances}-r${pending.length}`;
      exposures.reserve(id, strategy, asset, units > 0 ? 'BUY' : 'SELL', Math.abs(units), price, 0, Number.MAX_SAFE_INTEGER);
      pending.push({ id, strategy, asset, units, price });
    };
    const sequence = opts.flow === 'sequenced' ? [...moves.filter(reducing), ...moves.filter((x) => !reducing(x))] : moves;
    for (const m of sequence) {
      stats.orders++;
      const price = m.a.referencePrice;
      const side = m.to > m.from ? 'BUY' : 'SELL';
      let remaining = Math.abs(m.to - m.from) / price;
      for (let slice = 0; slice < MAX_SLICES && remaining > 1e-12 * (capital / price); slice++) {
        stats.slices++;
        const order: OrderRequest = {
          portfolioId: name,
          strategy: m.a.strategy,
          instrument: m.a.asset,
          side,
          quantity: remaining,
          price,
          clientOrderId: '',
        };
        const sized = sizeOrder(order, ctx);
        execute(m.a.strategy, m.a.asset, side === 'BUY' ? sized.quantity : -sized.quantity, price);
        remaining -= sized.quantity;
        if (sized.binding !== undefined && sized.binding !== 'MAX_ORDER_NOTIONAL') {
          stats.limited[sized.binding] = (stats.limited[sized.binding] ?? 0) + 1;
          stats.untradedNotional += (remaining * price) / capital;
          break;
        }
      }
    }

    for (const p of pending) {
      const f = { strategy: p.strategy, asset: p.asset, side: p.units > 0 ? ('BUY' as const) : ('SELL' as const), clientOrderId: p.id };
      exposures.applyFill({ ...f, fillId: '', quantity: Math.abs(p.units), price: p.price, orderDone: true, nowMs: 0 });
    }
    const risk = snapshot.risk;
    const vectors = exposures.riskVectors;
    if (risk && vectors) stats.maxVolToLimit = Math.max(stats.maxVolToLimit, Math.sqrt(vectors.variance) / risk.capital / risk.volLimit);
    executed = new Map();
    executedWeights = new Map();
    const weights = new Array<number>(universe.indices.length).fill(0);
    const position = new Map(universe.window.assets.map((a, k) => [a, k]));
    for (const e of exposures.allPairs()) {
      const k = position.get(e.asset);
      if (k === undefined) continue; // a pair outside today's universe is closed
      const notional = e.position * e.price;
      executed.set(pairKey(e.strategy, e.asset), { strategy: e.strategy, asset: e.asset, notional });
      weights[k] += notional / capital;
    }
    universe.window.assets.forEach((a, k) => executedWeights.set(a, weights[k]));
    return weights;
  };
  return { route, stats };
}
