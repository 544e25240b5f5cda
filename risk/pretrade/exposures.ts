/**
 * In-memory exposures of one portfolio: filled positions plus open reservations of approved orders.
 *
 * Limits are checked against the worst case: an approved BUY may still fill while an approved SELL may
 * not, so a pair's exposure is the larger of |position + reserved buys| and |position − reserved sells|.
 * Notionals are valued at the budget's reference price of each pair (the price the limits were computed
 * at). Portfolio and strategy aggregates are maintained incrementally so a check is O(1).
 */
import type { Side, TradingState } from '../kinds';
import type { Explanation } from './reasons';
import type { RiskFigures } from './riskFigures';
import { RiskVectors } from './riskState';
import { pairKey, type PortfolioSnapshot } from './snapshot';

export interface PairExposure {
  readonly strategy: string;
  readonly asset: string;
  /** Filled position in units (signed). */
  position: number;
  /** Open reserved quantity of approved, unfilled orders, per side (both ≥ 0). */
  reservedBuy: number;
  reservedSell: number;
  /** Valuation price: the budget's reference price, else the last fill/position price. */
  price: number;
}

/** Worst-case notional sums over a set of pairs. */
export interface Aggregate {
  gross: number;
  /** Net notional if every reserved buy fills and no reserved sell does. */
  netHigh: number;
  /** Net notional if every reserved sell fills and no reserved buy does. */
  netLow: number;
}

/**
 * An approved order as remembered for retries: the order (its fingerprint: a retry must match every
 * field) and the answer the gate gave. The portfolio is the book's.
 */
/** How long an approved order's reservation lives without a fill or cancel report, unless the gate is told otherwise. */
export const DEFAULT_RESERVATION_TTL_MS = 24 * 3_600_000;

export interface ApprovedAnswer {
  readonly strategy: string;
  readonly instrument: string;
  readonly side: Side;
  readonly quantity: number;
  readonly price: number;
  readonly version: number;
  readonly state: TradingState;
  /** The risk figures of the original answer; absent after a restart (the audit does not keep them). */
  readonly risk?: RiskFigures;
  /** The limits the original approval took to their warning level; absent after a restart, like `risk`. */
  readonly warnings?: readonly Explanation[];
}

/** What an order id is remembered with: when to forget it, and the approval when known. */
interface RememberedOrder {
  readonly until: number;
  readonly answer: ApprovedAnswer | undefined;
}

interface Reservation {
  readonly key: string;
  readonly side: Side;
  remaining: number;
  readonly expiresAtMs: number;
}

const emptyAggregate = (): Aggregate => ({ gross: 0, netHigh: 0, netLow: 0 });

function forgetUntil<V>(ids: Map<string, V>, nowMs: number, until: (v: V) => number): void {
  for (const [id, v] of ids) {
    if (until(v) > nowMs) return;
    ids.delete(id);
  }
}

function addTo(a: Aggregate, gross: number, high: number, low: number): void {
  a.gross += gross;
  a.netHigh += high;
  a.netLow += low;
}

export const pairGross = (e: PairExposure): number =>
  Math.max(Math.abs(e.position + e.reservedBuy), Math.abs(e.position - e.reservedSell)) * e.price;

/**
 * The pair's worst-case signed exposure in units: whichever of "every reserved buy fills" and "every
 * reserved sell fills" leaves the larger absolute position (ties: the buy side). Valued at the pair's
 * price it is the pair's entry in the risk checks' exposure vector.
 */
export const worstCaseUnits = (e: Pick<PairExposure, 'position' | 'reservedBuy' | 'reservedSell'>): number => {
  const high = e.position + e.reservedBuy;
  const low = e.position - e.reservedSell;
  return Math.abs(high) >= Math.abs(low) ? high : low;
};

export class ExposureBook {
  private readonly pairs = new Map<string, PairExposure>();
  private readonly reservations = new Map<string, Reservation>();
  /** Reference prices of the installed budget, by pair key. */
  private referencePrices = new Map<string, number>();
  /**
   * Ids seen recently, for duplicate detection: id → forget-after time. Every entry lives the same
   * `idMemoryMs`, so insertion order is expiry order: expiry stops at the first live entry, and the
   * size cap evicts the oldest. The duplicate window is therefore min(idMemoryMs, last maxIds ids).
   */
  private readonly seenOrderIds = new Map<string, RememberedOrder>();
  private readonly seenFillIds = new Map<string, number>();
  private total: Aggregate = emptyAggregate();
  private byStrategy = new Map<string, Aggregate>();
  /** Ex-ante risk vectors over the budget's covariance; undefined when the budget carries no usable model. */
  private risk: RiskVectors | undefined;

  constructor(
    readonly portfolioId: string,
    private readonly memory: { readonly idMemoryMs: number; readonly maxIds: number } = { idMemoryMs: 86_400_000, maxIds: 1_000_000 },
  ) {}

  pair(strategy: string, asset: string): PairExposure | undefined {
    return this.pairs.get(pairKey(strategy, asset));
  }

  get portfolio(): Readonly<Aggregate> {
    return this.total;
  }

  strategy(strategy: string): Readonly<Aggregate> | undefined {
    return this.byStrategy.get(strategy);
  }

  allPairs(): IterableIterator<PairExposure> {
    return this.pairs.values();
  }

  /** The risk checks' vectors (x, Σx, xᵀΣx, contributions), when the installed budget has a risk model. */
  get riskVectors(): RiskVectors | undefined {
    return this.risk;
  }

  /**
   * Applies the risk vectors' deferred O(n) updates (riskState.ts): call off the answer path. Checks are
   * exact either way; this only moves the work. True when there was work.
   */
  settleRisk(): boolean {
    return this.risk?.settle() ?? false;
  }

  hasOrderId(clientOrderId: string): boolean {
    return this.reservations.has(clientOrderId) || this.seenOrderIds.has(clientOrderId);
  }

  /** The answer given to the order approved under this id, when remembered with it. */
  approvedAnswer(clientOrderId: string): ApprovedAnswer | undefined {
    return this.seenOrderIds.get(clientOrderId)?.answer;
  }

  /**
   * Is `order` the one approved under its id: true (a retry), false (another order under a used id),
   * undefined (the id is not remembered with its order: unknown, or evicted while still working).
   */
  sameOrder(
    order: Pick<ApprovedAnswer, 'strategy' | 'instrument' | 'side' | 'quantity' | 'price'> & { clientOrderId: string },
  ): boolean | undefined {
    const a = this.approvedAnswer(order.clientOrderId);
    if (!a) return undefined;
    return (
      a.strategy === order.strategy &&
      a.instrument === order.instrument &&
      a.side === order.side &&
      a.quantity === order.quantity &&
      a.price === order.price
    );
  }

  get openReservations(): number {
    return this.reservations.size;
  }

  /** Revalue at a new snapshot's reference prices and rebuild the aggregates. */
  reprice(snapshot: PortfolioSnapshot): void {
    this.referencePrices = new Map([...snapshot.pairs].map(([key, p]) => [key, p.referencePrice as number]));
    const kernel = snapshot.risk?.kernel;
    this.risk = kernel ? (this.risk?.kernel === kernel ? this.risk : new RiskVectors(kernel)) : undefined;
    for (const [key, e] of this.pairs) {
      const ref = this.referencePrices.get(key);
      if (ref !== undefined && ref > 0) e.price = ref;
    }
    this.rebuild();
  }

  reserve(
    clientOrderId: string,
    strategy: string,
    asset: string,
    side: Side,
    qty: number,
    price: number,
    nowMs: number,
    ttlMs: number,
    answer?: ApprovedAnswer,
  ): void {
    const key = pairKey(strategy, asset);
    this.update(key, strategy, asset, price, (e) => {
      if (side === 'BUY') e.reservedBuy += qty;
      else e.reservedSell += qty;
    });
    this.reservations.set(clientOrderId, { key, side, remaining: qty, expiresAtMs: nowMs + ttlMs });
    this.rememberOrder(clientOrderId, nowMs, answer);
  }

  /**
   * Apply a fill: moves the position, consumes the order's reservation, and releases what is left when
   * the order is done. Returns false for a fill id seen before (nothing applied).
   */
  applyFill(fill: {
    strategy: string;
    asset: string;
    side: Side;
    clientOrderId: string;
    fillId: string;
    quantity: number;
    price: number;
    orderDone: boolean;
    nowMs: number;
  }): boolean {
    if (fill.fillId !== '' && this.seenFillIds.has(fill.fillId)) return false;
    if (fill.fillId !== '') this.remember(this.seenFillIds, fill.fillId, fill.nowMs);
    const key = pairKey(fill.strategy, fill.asset);
    const reservation = this.reservations.get(fill.clientOrderId);
    this.update(key, fill.strategy, fill.asset, fill.price, (e) => {
      e.position += fill.side === 'BUY' ? fill.quantity : -fill.quantity;
      if (reservation && reservation.key === key) {
        const used = Math.min(reservation.remaining, fill.quantity);
        const release = fill.orderDone ? reservation.remaining : used;
        reservation.remaining -= release;
        if (reservation.side === 'BUY') e.reservedBuy = Math.max(0, e.reservedBuy - release);
        else e.reservedSell = Math.max(0, e.reservedSell - release);
      }
    });
    if (reservation && reservation.key !== key && fill.orderDone) {
      // The fill names another pair than the order did: release the order's reservation where it was made.
      this.releaseReservation(fill.clientOrderId, reservation);
    } else if (reservation && (fill.orderDone || reservation.remaining <= 0)) {
      this.reservations.delete(fill.clientOrderId);
    }
    return true;
  }

  /**
   * Remembers an order id approved at `atMs`, with its order and answer when given (what a retry is
   * compared with and answered from). Also how a restart rebuilds its memory of done or expired orders.
   */
  rememberOrder(clientOrderId: string, atMs: number, answer?: ApprovedAnswer): void {
    this.seenOrderIds.set(clientOrderId, { until: atMs + this.memory.idMemoryMs, answer });
    this.evictOldest(this.seenOrderIds);
  }

  /** Remembers a fill id reported at `atMs` (a restart rebuilding its memory). */
  rememberFill(fillId: string, atMs: number): void {
    this.remember(this.seenFillIds, fillId, atMs);
  }

  /** Release reservations whose timeout passed and forget old order/fill ids. Returns releases made. */
  expire(nowMs: number): number {
    let released = 0;
    // All reservations share one TTL, so insertion order is expiry order: stop at the first live one.
    for (const [id, r] of this.reservations) {
      if (r.expiresAtMs > nowMs) break;
      this.releaseReservation(id, r);
      released++;
    }
    forgetUntil(this.seenOrderIds, nowMs, (o) => o.until);
    forgetUntil(this.seenFillIds, nowMs, (until) => until);
    return released;
  }

  private remember(ids: Map<string, number>, id: string, nowMs: number): void {
    ids.set(id, nowMs + this.memory.idMemoryMs);
    this.evictOldest(ids);
  }

  private evictOldest(ids: Map<string, unknown>): void {
    if (ids.size > this.memory.maxIds) ids.delete(ids.keys().next().value as string);
  }

  /** Replace filled positions by the database's (plus fills applied since), keeping reservations. */
  reconcile(
    rows: ReadonlyArray<{ strategy: string; asset: string; quantity: number; avgPrice: number | null }>,
    sinceDeltas: ReadonlyMap<string, number>,
  ): void {
    const fromDb = new Map(rows.map((r) => [pairKey(r.strategy, r.asset), r]));
    for (const [key, e] of this.pairs) if (!fromDb.has(key)) e.position = sinceDeltas.get(key) ?? 0;
    for (const [key, r] of fromDb) {
      const e = this.ensure(key, r.strategy, r.asset, r.avgPrice ?? 0);
      e.position = r.quantity + (sinceDeltas.get(key) ?? 0);
    }
    this.rebuild();
  }

  private releaseReservation(id: string, r: Reservation): void {
    const e = this.pairs.get(r.key);
    if (e) {
      this.update(r.key, e.strategy, e.asset, e.price, (x) => {
        if (r.side === 'BUY') x.reservedBuy = Math.max(0, x.reservedBuy - r.remaining);
        else x.reservedSell = Math.max(0, x.reservedSell - r.remaining);
      });
    }
    this.reservations.delete(id);
  }

  /**
   * Exposure is valued at the budget's reference price whenever the pair has one — never at an order's
   * or fill's own price, which could understate it by up to the collar (or by anything, for fills).
   */
  private ensure(key: string, strategy: string, asset: string, fallbackPrice: number): PairExposure {
    let e = this.pairs.get(key);
    const ref = this.referencePrices.get(key);
    const price = ref !== undefined && ref > 0 ? ref : fallbackPrice;
    if (!e) {
      e = { strategy, asset, position: 0, reservedBuy: 0, reservedSell: 0, price };
      this.pairs.set(key, e);
    } else if (!(e.price > 0) && price > 0) {
      e.price = price;
    }
    return e;
  }

  /** Mutate one pair, keeping the aggregates exact: remove its old contribution, add the new one. */
  private update(key: string, strategy: string, asset: string, price: number, mutate: (e: PairExposure) => void): void {
    const e = this.ensure(key, strategy, asset, price);
    const agg = this.strategyAggregate(strategy);
    const worstBefore = worstCaseUnits(e) * e.price;
    this.contribute(e, agg, -1);
    mutate(e);
    this.contribute(e, agg, +1);
    const index = this.risk?.kernel.assetIndex.get(asset);
    if (index !== undefined) this.risk!.move(strategy, index, worstCaseUnits(e) * e.price - worstBefore);
  }

  private contribute(e: PairExposure, agg: Aggregate, sign: 1 | -1): void {
    const gross = pairGross(e) * sign;
    const high = (e.position + e.reservedBuy) * e.price * sign;
    const low = (e.position - e.reservedSell) * e.price * sign;
    addTo(this.total, gross, high, low);
    addTo(agg, gross, high, low);
  }

  private strategyAggregate(strategy: string): Aggregate {
    let agg = this.byStrategy.get(strategy);
    if (!agg) {
      agg = emptyAggregate();
      this.byStrategy.set(strategy, agg);
    }
    return agg;
  }

  /** Recompute aggregates from scratch (after repricing or reconciliation; also clears float drift). */
  private rebuild(): void {
    this.total = emptyAggregate();
    this.byStrategy = new Map();
    for (const e of this.pairs.values()) this.contribute(e, this.strategyAggregate(e.strategy), +1);
    const risk = this.risk;
    if (risk) {
      const entries = [];
      for (const e of this.pairs.values()) {
        const index = risk.kernel.assetIndex.get(e.asset);
        if (index !== undefined) entries.push({ strategy: e.strategy, index, value: worstCaseUnits(e) * e.price });
      }
      risk.reset(entries);
    }
  }
}
