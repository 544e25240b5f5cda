/**
 * Daily book-keeping of one strategy over a price panel: positions drift with prices, targets decided
 * at the close of day t execute at the close of day t+1, trading costs are charged on traded notional,
 * and the uninvested share (or the borrowed share, when gross exposure exceeds 1) accrues the cash rate.
 *
 * Positions are fractions of net asset value (NAV). NAV starts at 1; only relative paths matter here.
 * The simulator is pure: the strategy sees the market only through a `MarketCursor`, which refuses to
 * read past the current day, so look-ahead is a run-time error rather than a silent bias.
 */
import type { PriceTable } from '../risk/timeseries';
import { DataError } from '../risk/timeseries';
import type { Fraction, PeriodsPerYear } from '../risk/units';

/** What a strategy wants to hold after the next close: a weight of NAV per asset (table order). */
export interface TargetPositions {
  readonly weights: readonly number[];
  /** Free-form label of the decision (e.g. the regime) kept in the trace. */
  readonly label?: string;
}

/** Read-only view of the price history up to the simulation's current day. */
export interface MarketCursor {
  readonly table: PriceTable;
  /** Index of the current day (the last close the strategy may see). */
  readonly today: number;
  /** Simple return of `asset` from day-1 to `day` (0 when either price is missing). Throws past today. */
  dailyReturn(asset: number, day: number): number;
  /** True once the asset has at least one valid price at or before `day`. */
  isListed(asset: number, day: number): boolean;
  /** Days (≤ today) since the asset's first valid price; -1 when not listed yet. */
  historyLength(asset: number): number;
  /** The last `rows` rows of prices up to and including today (NaN = missing), as production code reads them. */
  priceWindow(rows: number): PriceTable;
}

/** A decision rule evaluated at each close. Returning undefined keeps the current book. */
export interface Strategy {
  readonly name: string;
  decide(market: MarketCursor, book: BookState): TargetPositions | undefined;
}

/** The strategy's view of its own book at the close of today (after any trade executed today). */
export interface BookState {
  readonly nav: number;
  /** Current (drifted) weights of NAV; valid only during the call. */
  readonly weights: ArrayLike<number>;
  /** Last executed target. */
  readonly lastTarget: readonly number[] | undefined;
}

export interface SimulationSettings {
  /** Cost per unit of traded notional, in basis points (10 = 0.10 % of each trade). */
  readonly costBps: number;
  /** Annual simple rate earned on positive cash and paid on borrowed cash. */
  readonly cashRate: Fraction;
  readonly periodsPerYear: PeriodsPerYear;
  /** First day on which the strategy is asked for a decision (earlier days are warm-up). */
  readonly firstDecisionDay: number;
  /** Called once per simulated day (progress reporting). */
  readonly onDay?: (day: number) => void;
}

export interface SimulationTrace {
  readonly strategy: string;
  /** NAV at each close, aligned with the table's dates. */
  readonly nav: Float64Array;
  /** Gross exposure Σ|w| at each close, after any trade. */
  readonly gross: Float64Array;
  /** Traded notional Σ|Δw| on each day (fraction of NAV; 0 on days without a trade). */
  readonly turnover: Float64Array;
  /** Cost paid each day as a fraction of NAV. */
  readonly cost: Float64Array;
  /** Decisions: the day they were taken (executed the next day) and their label. */
  readonly decisions: readonly { readonly day: number; readonly label: string | undefined }[];
}

/** Per-period cash return from an annual simple rate, compounded over the year's periods. */
export function periodCashReturn(cashRate: Fraction, periods: PeriodsPerYear): number {
  return Math.pow(1 + cashRate, 1 / periods) - 1;
}

export function simulate(table: PriceTable, strategy: Strategy, settings: SimulationSettings): SimulationTrace {
  const days = table.dates.length;
  const n = table.assets.length;
  const market = new Cursor(table);
  const cashReturn = periodCashReturn(settings.cashRate, settings.periodsPerYear);
  const costRate = settings.costBps / 10_000;
  const nav = new Float64Array(days);
  const gross = new Float64Array(days);
  const turnover = new Float64Array(days);
  const cost = new Float64Array(days);
  const decisions: { day: number; label: string | undefined }[] = [];
  const w = new Float64Array(n);
  let cash = 1;
  let pending: readonly number[] | undefined;
  let lastTarget: readonly number[] | undefined;
  nav[0] = 1;

  for (let t = 0; t < days; t++) {
    market.advanceTo(t);
    if (t > 0) {
      let growth = cash * (1 + cashReturn);
      for (let i = 0; i < n; i++) {
        const r = market.dailyReturn(i, t);
        w[i] *= 1 + r;
        growth += w[i];
      }
      if (!(growth > 0)) throw new DataError(`${strategy.name}: the book was wiped out on ${table.dates[t]}`);
      for (let i = 0; i < n; i++) w[i] /= growth;
      cash = (cash * (1 + cashReturn)) / growth;
      nav[t] = nav[t - 1] * growth;
    }
    if (pending) {
      // Costs come out of NAV; the target weights then apply to the post-cost NAV.
      const traded = execute(w, pending, market, strategy.name);
      turnover[t] = traded;
      cost[t] = traded * costRate;
      nav[t] *= 1 - cost[t];
      cash = 1 - sum(w);
      lastTarget = pending;
      pending = undefined;
    }
    gross[t] = sumAbs(w);
    if (t >= settings.firstDecisionDay && t < days - 1) {
      const decision = strategy.decide(market, { nav: nav[t], weights: w, lastTarget });
      if (decision) {
        if (decision.weights.length !== n)
          throw new Error(`${strategy.name}: target has ${decision.weights.length} weights for ${n} assets`);
        pending = decision.weights;
        decisions.push({ day: t, label: decision.label });
      }
    }
    settings.onDay?.(t);
  }
  return { strategy: strategy.name, nav, gross, turnover, cost, decisions };
}

/** Moves the book to the target at today's close; returns the traded notional Σ|Δw|. */
function execute(w: Float64Array, target: readonly number[], market: Cursor, name: string): number {
  let traded = 0;
  for (let i = 0; i < w.length; i++) {
    const goal = target[i];
    if (!Number.isFinite(goal)) throw new Error(`${name}: non-finite target weight for ${market.table.assets[i]}`);
    if (goal !== 0 && !market.isListed(i, market.today)) {
      throw new Error(`${name}: target weight for ${market.table.assets[i]} before its first price (${market.table.dates[market.today]})`);
    }
    traded += Math.abs(goal - w[i]);
    w[i] = goal;
  }
  return traded;
}

class Cursor implements MarketCursor {
  today = 0;
  /** Valuation returns: a price after a gap is compared with the last valid price before it. */
  private readonly returns: readonly Float64Array[];
  private readonly firstValid: Int32Array;

  constructor(readonly table: PriceTable) {
    this.returns = table.series.map(valuationReturns);
    this.firstValid = Int32Array.from(table.series, (s) => {
      const k = s.findIndex((x) => Number.isFinite(x));
      return k < 0 ? Number.MAX_SAFE_INTEGER : k;
    });
  }

  advanceTo(day: number): void {
    this.today = day;
  }

  dailyReturn(asset: number, day: number): number {
    this.guard(day);
    return this.returns[asset][day];
  }

  isListed(asset: number, day: number): boolean {
    this.guard(day);
    return this.firstValid[asset] <= day;
  }

  historyLength(asset: number): number {
    const first = this.firstValid[asset];
    return first <= this.today ? this.today - first : -1;
  }

  priceWindow(rows: number): PriceTable {
    const lo = Math.max(0, this.today + 1 - rows);
    const hi = this.today + 1;
    return {
      dates: this.table.dates.slice(lo, hi),
      assets: this.table.assets,
      series: this.table.series.map((s) => s.subarray(lo, hi)),
    };
  }

  private guard(day: number): void {
    if (day > this.today) throw new Error(`look-ahead: read day ${day} while at day ${this.today}`);
  }
}

/** r_t = P_t / P_last − 1 where P_last is the last valid price before t; 0 on missing days and before listing. */
export function valuationReturns(prices: Float64Array): Float64Array {
  const out = new Float64Array(prices.length);
  let last = Number.NaN;
  for (let t = 0; t < prices.length; t++) {
    const p = prices[t];
    if (!Number.isFinite(p)) continue;
    if (Number.isFinite(last)) out[t] = p / last - 1;
    last = p;
  }
  return out;
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

function sumAbs(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.abs(xs[i]);
  return s;
}
