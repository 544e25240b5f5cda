/**
 * The dynamic book five ways on the same data, same regimes, same rebalancing dates: its targets taken
 * as they are ("ungated"); its rebalancing orders through the gate's notional checks only, and through
 * the notional and the risk checks (VOL_LIMIT, RISK_BUDGET) — each with the orders sequenced
 * (risk-reducing first, filled one by one) and sent as one batch (all reserved before any fill).
 * Drawdown, turnover and what the checks cut, side by side.
 *
 * Regimes come from the rule detector (deterministic, fast) and rebalancing follows the calendar, so
 * the three books differ only by the gate.
 */
import type { RiskConfig } from '../risk/config';
import type { PriceTable } from '../risk/timeseries';
import type { Fraction, PeriodsPerYear } from '../risk/units';
import { type GateRoutingStats, type OrderFlow, gateRouter } from './gateRouting';
import { computeMetrics, type StrategyMetrics } from './metrics';
import { RegimeIndex, RuleRegimes } from './regimes';
import type { CalendarPeriod } from './schedule';
import { periodCashReturn, simulate } from './simulator';
import { calendarCheck, engineStrategy } from './strategies';

export const GATED_BOOKS = ['ungated', 'sequenced-notional', 'sequenced-risk', 'batch-notional', 'batch-risk'] as const;
export type GatedBook = (typeof GATED_BOOKS)[number];

const ROUTING: Record<Exclude<GatedBook, 'ungated'>, { riskChecks: boolean; flow: OrderFlow }> = {
  'sequenced-notional': { riskChecks: false, flow: 'sequenced' },
  'sequenced-risk': { riskChecks: true, flow: 'sequenced' },
  'batch-notional': { riskChecks: false, flow: 'batch' },
  'batch-risk': { riskChecks: true, flow: 'batch' },
};

export interface GatedComparisonSettings {
  readonly config: RiskConfig;
  readonly costBps: number;
  readonly cashRate: Fraction;
  readonly periodsPerYear: PeriodsPerYear;
  readonly calendarPeriod: CalendarPeriod;
  /** First decision day (earlier rows are warm-up). */
  readonly firstDecisionDay: number;
}

export interface GatedComparison {
  readonly metrics: Record<GatedBook, StrategyMetrics>;
  /** Routing statistics of the two gated books. */
  readonly gate: Record<Exclude<GatedBook, 'ungated'>, GateRoutingStats>;
}

export function runGatedComparison(table: PriceTable, settings: GatedComparisonSettings): GatedComparison {
  const { config } = settings;
  const window = { from: settings.firstDecisionDay, to: table.dates.length - 1 };
  const cash = periodCashReturn(settings.cashRate, settings.periodsPerYear);
  const run = (book: GatedBook): { metrics: StrategyMetrics; stats: GateRoutingStats | undefined } => {
    const regimes = new RuleRegimes(new RegimeIndex(table.assets, undefined), config);
    const router = book === 'ungated' ? undefined : gateRouter(book, ROUTING[book]);
    const strategy = engineStrategy(book, config, regimes, calendarCheck(settings.calendarPeriod), router?.route);
    const trace = simulate(table, strategy, {
      costBps: settings.costBps,
      cashRate: settings.cashRate,
      periodsPerYear: settings.periodsPerYear,
      firstDecisionDay: settings.firstDecisionDay,
    });
    return { metrics: computeMetrics(trace, table.dates, window, settings.periodsPerYear, cash), stats: router?.stats };
  };
  const runs = Object.fromEntries(GATED_BOOKS.map((b) => [b, run(b)])) as Record<GatedBook, ReturnType<typeof run>>;
  return {
    metrics: Object.fromEntries(GATED_BOOKS.map((b) => [b, runs[b].metrics])) as Record<GatedBook, StrategyMetrics>,
    gate: Object.fromEntries(GATED_BOOKS.filter((b) => b !== 'ungated').map((b) => [b, runs[b].stats!])) as GatedComparison['gate'],
  };
}
