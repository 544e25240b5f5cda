/**
 * The gate's state and decisions, independent of gRPC: current snapshots, per-portfolio exposure
 * books, and the audit/fill queues. Every method here is synchronous and touches only memory; each
 * decision and fill is handed to its queue (the spool, grpc/spool.ts), which says when it is durable
 * (`recorded`): the handler answers only then.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate } from 'node:timers';
import type { FillRecord } from '../db/stores/fills';
import type { ApprovedOrder, DecisionRecord } from '../db/stores/gateDecisions';
import type { PositionRow } from '../db/stores/positions';
import type { TradingState } from '../risk/kinds';
import {
  type CheckPolicy,
  type Evaluation,
  evaluateOrder,
  type OrderRequest,
  type Sizing,
  sizeOrder,
  effectiveState,
} from '../risk/pretrade/checks';
import { type ApprovedAnswer, ExposureBook, pairGross } from '../risk/pretrade/exposures';
import type { Explanation, Reason } from '../risk/pretrade/reasons';
import { type OrderThrottle, throttleDenial } from '../risk/pretrade/throttle';
import { WarningLatch } from '../risk/pretrade/warnings';
import { activeOverride, pairKey, type PortfolioSnapshot } from '../risk/pretrade/snapshot';
import { type RiskUtilization, riskUtilization } from '../risk/pretrade/riskChecks';

/** Where the core hands records for writing; pushing must not block or throw (the request path). */
export interface RecordQueue<T> {
  /** Resolves once the record is durable; rejects if it cannot be made so. */
  push(record: T): Promise<void>;
}

/** A result and the promise that its record is durable (the answer waits for it). */
export type Recorded<R> = R & { readonly recorded: Promise<void> };
const RECORDED: Promise<void> = Promise.resolve();

/** A fill as the OMS reports it; the core stamps the time. */
export type FillReport = Omit<FillRecord, 'reportedAtMs'>;

export interface GateCoreOptions {
  readonly policy: CheckPolicy;
  readonly clock: () => number;
  /** How long an approved order's reservation lives without a fill or cancel report. */
  readonly reservationTtlMs: number;
  /** How long used client order ids and fill ids are remembered for duplicate detection. */
  readonly idMemoryMs: number;
  /** Per portfolio cap on remembered ids (oldest forgotten first). Default 1,000,000. */
  readonly maxRememberedIds?: number;
  readonly audit?: RecordQueue<DecisionRecord>;
  readonly fills?: RecordQueue<FillRecord>;
  /**
   * Resolves once every record pushed so far is durable: a retried order's answer waits for it, since
   * the original decision may still be in the group being synced. Default: already durable.
   */
  readonly durable?: () => Promise<void>;
  /** The message throttle EvaluateTrade answers ORDER_RATE_THROTTLED from; none: no throttle. */
  readonly throttle?: OrderThrottle;
  /** Told once per crossing when an approval takes a limit to the warning level (must not block or throw). */
  readonly onLimitWarning?: (portfolioId: string, warning: Explanation) => void;
}

/** An EvaluateTrade answer; `replayed` when it repeats the original decision for a retried order. */
export type EvaluateAnswer = Recorded<Evaluation> & { readonly replayed: boolean };

export interface UtilizationLine {
  readonly strategy: string;
  readonly instrument: string;
  readonly used: number;
  readonly limit: number;
}

export class GateCore {
  private readonly snapshots = new Map<string, PortfolioSnapshot>();
  private readonly books = new Map<string, ExposureBook>();
  private knownPortfolios: ReadonlySet<string> = new Set();
  /** Fill deltas applied since a reconciliation began (pair key → signed units), per portfolio. */
  private reconciling: Map<string, Map<string, number>> | undefined;
  /**
   * Fill deltas applied in memory but not yet in Postgres (still in the spool's group or the writer's
   * queue), per portfolio: a read of `positions` misses exactly these, whenever it happens.
   */
  private readonly unwritten = new Map<string, Map<string, number>>();
  /**
   * Decision ids: this process's start time and 32 random bits, then a counter. Unique across
   * restarts and replicas, and increasing within a process so the unique index on
   * `gate_decisions.decision_id` grows at its right edge (a random UUID would touch a random page per row).
   */
  private readonly decisionIdPrefix = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-`;
  private decisionSeq = 0;
  /** Books whose deferred risk update is scheduled. */
  private readonly settling = new Set<ExposureBook>();
  /** Which limits already raised their warning, until they fall back below it. */
  readonly warnings = new WarningLatch();

  constructor(readonly options: GateCoreOptions) {}

  snapshot(portfolioId: string): PortfolioSnapshot | undefined {
    return this.snapshots.get(portfolioId);
  }

  book(portfolioId: string): ExposureBook {
    let b = this.books.get(portfolioId);
    if (!b) {
      b = new ExposureBook(portfolioId, { idMemoryMs: this.options.idMemoryMs, maxIds: this.options.maxRememberedIds ?? 1_000_000 });
      this.books.set(portfolioId, b);
    }
    return b;
  }

  get portfolioIds(): readonly string[] {
    return [...this.snapshots.keys()];
  }

  setKnownPortfolios(ids: ReadonlySet<string>): void {
    this.knownPortfolios = ids;
  }

  /** Swap in a snapshot unless we already hold a newer version (a slow reload must not go back). */
  install(next: PortfolioSnapshot): boolean {
    const current = this.snapshots.get(next.portfolioId);
    if (current && current.version > next.version) return false;
    // A reload of the same version (an override, the heartbeat) keeps the risk model already built, so
    // the book's risk vectors stay bound to it and nothing is rebuilt.
    const sameModel = current?.version === next.version && current.risk?.kernel && current.risk.modelId === next.risk?.modelId;
    const installed = sameModel ? Object.freeze({ ...next, risk: current.risk }) : next;
    this.snapshots.set(next.portfolioId, installed);
    const book = this.book(next.portfolioId);
    // Reprice on a new version, and when a model missing before has since become loadable.
    const kernel = installed.risk?.kernel;
    if (!current || current.version !== next.version || (kernel && book.riskVectors?.kernel !== kernel)) book.reprice(installed);
    return true;
  }

  /**
   * Decides an order; approval reserves its quantity under its client order id. The same order sent
   * again under an approved id (an OMS retrying an answer it lost) gets the original answer back, with
   * nothing reserved or recorded again; another order under it is denied CLIENT_ORDER_ID_REUSED (checks.ts).
   */
  evaluate(order: OrderRequest, caller: string, startedNs: bigint): EvaluateAnswer {
    const now = this.options.clock();
    const snapshot = this.snapshots.get(order.portfolioId);
    const book = snapshot ? this.book(order.portfolioId) : undefined;
    if (book && order.clientOrderId !== '' && book.sameOrder(order)) return this.replay(book.approvedAnswer(order.clientOrderId)!);
    // Retries (above) are answered from memory and not throttled; every new order takes a token.
    const throttledBy = this.options.throttle?.admit(caller, order.portfolioId, now);
    const result = throttledBy
      ? throttleDenial(order, throttledBy, snapshot?.version ?? 0, this.tradingState(order.portfolioId))
      : evaluateOrder(order, this.context(order.portfolioId, snapshot, book, now));
    if (result.approved)
      for (const w of this.warnings.crossings(order, result.warnings)) this.options.onLimitWarning?.(order.portfolioId, w);
    if (result.approved && book) {
      const id = order.clientOrderId;
      const { strategy, instrument, side, quantity, price } = order;
      const { version, state, risk, warnings } = result;
      const answer: ApprovedAnswer = { strategy, instrument, side, quantity, price, version, state, risk, warnings };
      book.reserve(
        id,
        order.strategy,
        order.instrument,
        order.side,
        order.quantity,
        order.price,
        now,
        this.options.reservationTtlMs,
        answer,
      );
    }
    const recorded = this.record(
      'EvaluateTrade',
      order,
      caller,
      now,
      startedNs,
      result.approved ? 'APPROVE' : 'DENY',
      result.approved ? order.quantity : 0,
      result,
    );
    if (result.approved && book) this.settleRiskSoon(book); // after the record: its write starts first
    return answered(result, recorded);
  }

  /** The original approval again: the same decision, budget version, trading state and risk figures. */
  private replay(a: ApprovedAnswer): EvaluateAnswer {
    return {
      approved: true,
      reasons: [],
      explanations: [],
      detail: '',
      version: a.version,
      state: a.state,
      risk: a.risk,
      warnings: a.warnings ?? [],
      replayed: true,
      recorded: this.options.durable?.() ?? RECORDED,
    };
  }

  size(order: OrderRequest, caller: string, startedNs: bigint): Recorded<Sizing> {
    const now = this.options.clock();
    const snapshot = this.snapshots.get(order.portfolioId);
    const book = snapshot ? this.books.get(order.portfolioId) : undefined;
    const result = sizeOrder(order, this.context(order.portfolioId, snapshot, book, now));
    const reasons = result.binding ? [result.binding] : [];
    const { detail, version, state } = result;
    const recorded = this.record('SizePosition', order, caller, now, startedNs, 'SIZE', result.quantity, {
      reasons,
      detail,
      version,
      state,
    });
    const { quantity, binding, explanation, risk } = result;
    return { quantity, binding, explanation, detail, version, state, risk, recorded };
  }

  /** Applies a fill in memory and queues it for Postgres. Returns undefined for a duplicate fill id. */
  reportFill(fill: FillReport): Recorded<{ position: number }> | undefined {
    const now = this.options.clock();
    const book = this.book(fill.portfolioId);
    const applied = book.applyFill({ ...fill, asset: fill.instrument, nowMs: now });
    if (!applied) return undefined;
    const recorded = this.options.fills?.push({ ...fill, reportedAtMs: now }) ?? RECORDED;
    this.settleRiskSoon(book);
    if (this.options.fills) addDelta(this.unwritten, fill, 1);
    if (this.reconciling) addDelta(this.reconciling, fill, 1);
    return { position: book.pair(fill.strategy, fill.instrument)?.position ?? 0, recorded };
  }

  /**
   * The risk vectors' O(n) update of an approval or fill (dense Σ) runs once the event loop is free,
   * after the spool's write has started (scheduled after it), while the answer waits for its
   * fdatasync: the next decision is exact either way (riskState.ts).
   */
  private settleRiskSoon(book: ExposureBook): void {
    if (!book.riskVectors || this.settling.has(book)) return;
    this.settling.add(book);
    setImmediate(() => {
      this.settling.delete(book);
      book.settleRisk();
    });
  }

  /** Fills this core applied are now in Postgres (or quarantined): reads of `positions` include them. */
  fillsWritten(fills: readonly FillReport[]): void {
    for (const fill of fills) addDelta(this.unwritten, fill, -1);
  }

  /** Start recording fill deltas; the caller then reads positions and calls `endReconcile`. */
  beginReconcile(): void {
    this.reconciling = new Map();
  }

  /**
   * Positions := the table + the fills it does not have yet: those not yet written (with a fills queue),
   * else those reported since `beginReconcile` (without one nothing is written).
   */
  endReconcile(rows: readonly PositionRow[]): void {
    const missing = this.options.fills ? this.unwritten : (this.reconciling ?? new Map<string, Map<string, number>>());
    const byPortfolio = new Map<string, PositionRow[]>();
    for (const r of rows) {
      const list = byPortfolio.get(r.portfolioId);
      if (list) list.push(r);
      else byPortfolio.set(r.portfolioId, [r]);
    }
    const ids = new Set([...byPortfolio.keys(), ...this.books.keys()]);
    for (const id of ids) {
      const book = this.book(id);
      book.reconcile(byPortfolio.get(id) ?? [], missing.get(id) ?? new Map());
      // Pairs first seen in the table are valued at the budget's reference price like all others.
      const snapshot = this.snapshots.get(id);
      if (snapshot) book.reprice(snapshot);
    }
    this.reconciling = undefined;
  }

  endReconcileAborted(): void {
    this.reconciling = undefined;
  }

  /**
   * Rebuilds what a restart would forget from durable state, oldest first: the reservation of every
   * approved order still working (approved − filled, unless done or past its TTL, expiring when it
   * would have) and the memory of used client order ids (with each approved order and its answer, so
   * a retry after the restart still gets it) and fill ids. Call before serving.
   */
  restore(
    orders: readonly ApprovedOrder[],
    fillIds: ReadonlyArray<{ portfolioId: string; fillId: string; reportedAtMs: number }>,
  ): { working: number } {
    const now = this.options.clock();
    let working = 0;
    for (const o of orders) {
      const book = this.book(o.portfolioId);
      // Replayed audit rows could hold an id twice: the first approval is the one that stands.
      if (book.hasOrderId(o.clientOrderId)) continue;
      const answer: ApprovedAnswer = {
        strategy: o.strategy,
        instrument: o.instrument,
        side: o.side,
        quantity: o.approvedQuantity,
        price: o.price,
        version: o.budgetVersion,
        state: o.tradingState,
      };
      const remaining = o.done ? 0 : o.approvedQuantity - o.filled;
      if (remaining > 0 && o.decidedAtMs + this.options.reservationTtlMs > now) {
        const ttl = this.options.reservationTtlMs;
        book.reserve(o.clientOrderId, o.strategy, o.instrument, o.side, remaining, o.price, o.decidedAtMs, ttl, answer);
        working++;
      } else {
        book.rememberOrder(o.clientOrderId, o.decidedAtMs, answer);
      }
    }
    for (const f of fillIds) this.book(f.portfolioId).rememberFill(f.fillId, f.reportedAtMs);
    return { working };
  }

  /**
   * Gate HA: this replica has just taken over the portfolio's lease. Everything it held for it is
   * stale (another owner decided since), so the book is rebuilt from Postgres alone: the stored
   * positions, then every replica's working orders and used ids (`restore`). Call before deciding
   * for it; the fills of other portfolios not yet written are kept.
   */
  adopt(
    portfolioId: string,
    positions: readonly PositionRow[],
    orders: readonly ApprovedOrder[],
    fillIds: ReadonlyArray<{ portfolioId: string; fillId: string; reportedAtMs: number }>,
  ): { working: number } {
    this.books.delete(portfolioId);
    this.unwritten.delete(portfolioId);
    this.reconciling?.delete(portfolioId);
    const book = this.book(portfolioId);
    book.reconcile(positions, new Map());
    const snapshot = this.snapshots.get(portfolioId);
    if (snapshot) book.reprice(snapshot);
    return this.restore(orders, fillIds);
  }

  expireReservations(): number {
    const now = this.options.clock();
    let n = 0;
    for (const b of this.books.values()) {
      const released = b.expire(now);
      if (released > 0) this.settleRiskSoon(b);
      n += released;
    }
    return n;
  }

  tradingState(portfolioId: string): TradingState {
    const s = this.snapshots.get(portfolioId);
    return s ? effectiveState(s, this.options.clock(), this.options.policy).state : 'HALTED';
  }

  utilization(portfolioId: string):
    | {
        gross: UtilizationLine;
        net: UtilizationLine;
        strategies: UtilizationLine[];
        assets: UtilizationLine[];
        risk: RiskUtilization | undefined;
      }
    | undefined {
    const s = this.snapshots.get(portfolioId);
    if (!s) return undefined;
    const book = this.book(portfolioId);
    const net = (a: { netHigh: number; netLow: number }): number => Math.max(Math.abs(a.netHigh), Math.abs(a.netLow));
    const limits = s.budget.limits;
    // The limit the checks apply now: an override in force replaces the budget's (same scopes as checks.ts).
    const now = this.options.clock();
    const inForce = (field: Parameters<typeof activeOverride>[1], strategy: string | null, asset: string | null, budgetLimit: number) =>
      activeOverride(s, field, strategy, asset, now) ?? budgetLimit;
    return {
      gross: {
        strategy: '',
        instrument: '',
        used: book.portfolio.gross,
        limit: inForce('maxGrossNotional', null, null, limits.maxGrossNotional),
      },
      net: { strategy: '', instrument: '', used: net(book.portfolio), limit: inForce('maxNetNotional', null, null, limits.maxNetNotional) },
      strategies: s.budget.strategies.map((st) => ({
        strategy: st.strategy,
        instrument: '',
        used: book.strategy(st.strategy)?.gross ?? 0,
        limit: inForce('maxGrossNotional', st.strategy, null, st.maxGrossNotional),
      })),
      assets: s.budget.assets.map((a) => {
        const e = book.pair(a.strategy, a.asset);
        return {
          strategy: a.strategy,
          instrument: a.asset,
          used: e ? pairGross(e) : 0,
          limit: inForce('maxPositionNotional', a.strategy, a.asset, a.maxPositionNotional),
        };
      }),
      risk: riskUtilization(s.risk, book.riskVectors),
    };
  }

  private context(portfolioId: string, snapshot: PortfolioSnapshot | undefined, book: ExposureBook | undefined, nowMs: number) {
    return {
      snapshot,
      portfolioKnown: snapshot !== undefined || this.knownPortfolios.has(portfolioId),
      book,
      nowMs,
      policy: this.options.policy,
    };
  }

  private record(
    rpc: DecisionRecord['rpc'],
    order: OrderRequest,
    caller: string,
    now: number,
    startedNs: bigint,
    decision: DecisionRecord['decision'],
    approvedQuantity: number,
    result: { reasons: readonly Reason[]; detail: string; version: number; state: TradingState },
  ): Promise<void> {
    if (!this.options.audit) return RECORDED;
    return this.options.audit.push({
      decisionId: this.decisionIdPrefix + (++this.decisionSeq).toString(36).padStart(10, '0'),
      decidedAtMs: now,
      rpc,
      caller,
      portfolioId: order.portfolioId,
      strategy: order.strategy,
      instrument: order.instrument,
      side: order.side,
      quantity: order.quantity,
      price: order.price,
      clientOrderId: order.clientOrderId,
      decision,
      approvedQuantity,
      reasons: result.reasons,
      detail: result.detail,
      budgetVersion: result.version,
      tradingState: result.state,
      latencyUs: Number((process.hrtime.bigint() - startedNs) / 1000n),
    });
  }
}

/**
 * A new decision's answer. Fields listed rather than spread: a spread into a fresh literal took a slow
 * path here (~3 µs a call in the decision core's profile), on every order.
 */
function answered(e: Evaluation, recorded: Promise<void>): EvaluateAnswer {
  const { approved, reasons, explanations, detail, version, state, risk, warnings } = e;
  return { approved, reasons, explanations, detail, version, state, risk, warnings, recorded, replayed: false };
}

/** Adds (sign 1) or removes (sign −1) a fill's signed units to its pair in `deltas`, dropping zeros. */
function addDelta(deltas: Map<string, Map<string, number>>, fill: FillReport, sign: 1 | -1): void {
  let pairs = deltas.get(fill.portfolioId);
  if (!pairs) {
    pairs = new Map();
    deltas.set(fill.portfolioId, pairs);
  }
  const key = pairKey(fill.strategy, fill.instrument);
  const next = (pairs.get(key) ?? 0) + sign * (fill.side === 'BUY' ? fill.quantity : -fill.quantity);
  if (Math.abs(next) < 1e-12) pairs.delete(key);
  else pairs.set(key, next);
}
