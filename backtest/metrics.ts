/**
 * Performance metrics of a simulated book, computed from its daily NAV path over an evaluation window.
 *
 * Conventions (stated once, used everywhere):
 * - Daily returns are simple returns of NAV, r_t = NAV_t / NAV_{t−1} − 1, net of trading costs.
 * - Annualization uses the data set's periods per year (252 for US equities, 260 for 5-day calendars).
 * - CAGR compounds over calendar time: (NAV_end / NAV_start)^(365.25 / calendar days) − 1.
 * - Excess returns are over the simulated cash rate (the same per-period rate the book earns on cash).
 * - Sharpe = mean(excess) / stdev(excess) × √P (sample stdev, n − 1).
 * - Sortino = mean(excess) × P / (√(mean(min(excess, 0)²)) × √P): downside deviation over all periods.
 * - Max drawdown is the most negative NAV_t / max_{s≤t} NAV_s − 1 (a negative fraction), with the peak
 *   date (start) and trough date (end); Calmar = CAGR / |max drawdown|.
 * - Turnover = Σ|Δw| over trades (buys + sells, fraction of NAV) per year; costs the same per year.
 * - Average gross exposure = mean over days of Σ|w_i| at the close (1 = fully invested, no leverage).
 * - Capital efficiency = annualized mean excess return / average gross exposure: excess return earned per
 *   unit of capital actually deployed in risky assets. Return per unit of risk = annualized mean excess
 *   return / annualized vol.
 */
import type { SimulationTrace } from './simulator';

/** Per-period return dispersion below this is floating-point noise (a riskless path), not risk. */
const NEGLIGIBLE = 1e-12;

export interface DrawdownStats {
  readonly maxDrawdown: number;
  readonly maxDrawdownStart: string;
  readonly maxDrawdownEnd: string;
  /** First date NAV regained the pre-drawdown peak, or null when it never did within the window. */
  readonly maxDrawdownRecovery: string | null;
  /** Share of days spent below a previous NAV peak. */
  readonly timeUnderWater: number;
  /** Longest stretch below a previous peak, in trading days. */
  readonly longestUnderWaterDays: number;
}

export interface StrategyMetrics extends DrawdownStats {
  readonly start: string;
  readonly end: string;
  readonly days: number;
  readonly totalReturn: number;
  readonly cagr: number;
  readonly volAnnual: number;
  readonly sharpe: number;
  readonly sortino: number;
  readonly calmar: number;
  readonly turnoverAnnual: number;
  readonly costAnnual: number;
  readonly avgGrossExposure: number;
  readonly maxGrossExposure: number;
  readonly capitalEfficiency: number;
  readonly returnPerRisk: number;
}

export interface MetricsWindow {
  /** Index of the first day of the window: its close is the starting NAV, its return is not counted. */
  readonly from: number;
  /** Index of the last day (inclusive). */
  readonly to: number;
}

/** Metrics of `trace` over [from, to]; dates and per-period cash return as used in the simulation. */
export function computeMetrics(
  trace: SimulationTrace,
  dates: readonly string[],
  window: MetricsWindow,
  periodsPerYear: number,
  cashReturnPerPeriod: number,
): StrategyMetrics {
  const { from, to } = window;
  if (!(to > from)) throw new Error(`metrics window needs at least two days (got ${from}..${to})`);
  const excess = dailyExcessReturns(trace.nav, from, to, cashReturnPerPeriod);
  const mean = average(excess);
  const sd = sampleStdev(excess, mean);
  const downside = Math.sqrt(average(excess.map((x) => (x < 0 ? x * x : 0))));
  const years = calendarYears(dates[from], dates[to]);
  const totalReturn = trace.nav[to] / trace.nav[from] - 1;
  const cagr = Math.pow(1 + totalReturn, 1 / years) - 1;
  const drawdown = drawdownStats(trace.nav, dates, from, to);
  const grossDays = Array.from(trace.gross.subarray(from + 1, to + 1));
  const avgGrossExposure = average(grossDays);
  const annualExcess = mean * periodsPerYear;
  const volAnnual = sampleStdev(dailyReturns(trace.nav, from, to)) * Math.sqrt(periodsPerYear);
  return {
    start: dates[from],
    end: dates[to],
    days: to - from,
    totalReturn,
    cagr,
    volAnnual,
    sharpe: sd > NEGLIGIBLE ? (mean / sd) * Math.sqrt(periodsPerYear) : 0,
    sortino: downside > NEGLIGIBLE ? (mean / downside) * Math.sqrt(periodsPerYear) : 0,
    calmar: drawdown.maxDrawdown < 0 ? cagr / -drawdown.maxDrawdown : 0,
    ...drawdown,
    turnoverAnnual: sumRange(trace.turnover, from + 1, to) / years,
    costAnnual: sumRange(trace.cost, from + 1, to) / years,
    avgGrossExposure,
    maxGrossExposure: Math.max(...grossDays),
    capitalEfficiency: avgGrossExposure > 0 ? annualExcess / avgGrossExposure : 0,
    returnPerRisk: volAnnual > 0 ? annualExcess / volAnnual : 0,
  };
}

export function dailyReturns(nav: ArrayLike<number>, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from + 1; t <= to; t++) out.push(nav[t] / nav[t - 1] - 1);
  return out;
}

function dailyExcessReturns(nav: ArrayLike<number>, from: number, to: number, cash: number): number[] {
  return dailyReturns(nav, from, to).map((r) => r - cash);
}

export function drawdownStats(nav: ArrayLike<number>, dates: readonly string[], from: number, to: number): DrawdownStats {
  let peak = nav[from];
  let peakDay = from;
  let worst = 0;
  let worstPeak = from;
  let worstTrough = from;
  let underWater = 0;
  let run = 0;
  let longest = 0;
  for (let t = from + 1; t <= to; t++) {
    if (nav[t] >= peak) {
      peak = nav[t];
      peakDay = t;
      run = 0;
      continue;
    }
    underWater++;
    longest = Math.max(longest, ++run);
    const dd = nav[t] / peak - 1;
    if (dd < worst) {
      worst = dd;
      worstPeak = peakDay;
      worstTrough = t;
    }
  }
  let recovery: string | null = null;
  for (let t = worstTrough + 1; t <= to && worst < 0; t++) {
    if (nav[t] >= nav[worstPeak]) {
      recovery = dates[t];
      break;
    }
  }
  return {
    maxDrawdown: worst,
    maxDrawdownStart: dates[worstPeak],
    maxDrawdownEnd: dates[worstTrough],
    maxDrawdownRecovery: recovery,
    timeUnderWater: underWater / (to - from),
    longestUnderWaterDays: longest,
  };
}

/** Drawdown path NAV_t / running peak − 1 over the window (for charts). */
export function drawdownSeries(nav: ArrayLike<number>, from: number, to: number): Float64Array {
  const out = new Float64Array(to - from + 1);
  let peak = nav[from];
  for (let t = from; t <= to; t++) {
    peak = Math.max(peak, nav[t]);
    out[t - from] = nav[t] / peak - 1;
  }
  return out;
}

/** Relative reduction of the max drawdown vs a baseline: 0.3 = the drawdown is 30 % shallower. */
export function drawdownReduction(strategy: number, baseline: number): number {
  return baseline < 0 ? 1 - strategy / baseline : 0;
}

export function calendarYears(start: string, end: string): number {
  const ms = Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`);
  return ms / (365.25 * 86_400_000);
}

function average(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function sampleStdev(xs: readonly number[], mean = average(xs)): number {
  if (xs.length < 2) return 0;
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

function sumRange(xs: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let t = from; t <= to; t++) s += xs[t];
  return s;
}
