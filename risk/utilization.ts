/**
 * How much of its budget a book uses: gross and net notional against the portfolio limits, per
 * strategy against the strategy limits and per (strategy, asset) against the position limits, with
 * active overrides applied the way the gate applies them (an override replaces the limit in its
 * scope). Notionals are valued at the budget's reference prices, the prices the gate's limits were
 * computed at.
 */
import type { RiskBudget } from './budget';
import type { Side } from './kinds';

export interface HeldPosition {
  readonly strategy: string;
  readonly asset: string;
  readonly quantity: number;
}

/** An approved order not yet done: the units that may still fill (the gate's reservation). */
export interface WorkingOrder {
  readonly strategy: string;
  readonly asset: string;
  readonly side: Side;
  readonly remaining: number;
}

export interface LimitOverrideInForce {
  readonly strategy: string | null;
  readonly asset: string | null;
  readonly field: string;
  readonly value: number;
}

export interface UsageLine {
  readonly scope: string;
  readonly used: number;
  readonly limit: number;
  /** used / limit; null when the limit is zero (nothing may be held). */
  readonly utilization: number | null;
  readonly overridden: boolean;
}

export interface Utilization {
  readonly gross: UsageLine;
  readonly net: UsageLine;
  readonly strategies: readonly UsageLine[];
  readonly assets: readonly (UsageLine & { readonly strategy: string; readonly asset: string })[];
}

/** What is held, and the worst case the gate checks against: every working order filling on its worse side. */
export interface BookUtilization extends Utilization {
  readonly worstCase: Utilization;
}

/** One (strategy, asset) pair's contribution: gross notional and the net notional's two extremes. */
interface PairUse {
  readonly strategy: string;
  readonly asset: string;
  readonly gross: number;
  readonly netHigh: number;
  readonly netLow: number;
}

/** The levels the console colours: amber from 80 %, red from 100 %. */
export const UTILIZATION_WARN = 0.8;
export const UTILIZATION_BREACH = 1;

export function utilization(
  budget: RiskBudget,
  positions: readonly HeldPosition[],
  overrides: readonly LimitOverrideInForce[],
  working: readonly WorkingOrder[] = [],
): BookUtilization {
  const price = new Map(budget.assets.map((a) => [a.asset, a.referencePrice]));
  const key = (strategy: string, asset: string): string => `${strategy}\u0000${asset}`;
  const pairs = new Map<string, { strategy: string; asset: string; held: number; buys: number; sells: number }>();
  const pair = (strategy: string, asset: string) => {
    let p = pairs.get(key(strategy, asset));
    if (!p) pairs.set(key(strategy, asset), (p = { strategy, asset, held: 0, buys: 0, sells: 0 }));
    return p;
  };
  for (const p of positions) pair(p.strategy, p.asset).held += p.quantity;
  for (const o of working) pair(o.strategy, o.asset)[o.side === 'BUY' ? 'buys' : 'sells'] += Math.max(0, o.remaining);
  const held: PairUse[] = [];
  const worst: PairUse[] = [];
  for (const p of pairs.values()) {
    const px = price.get(p.asset) ?? 0;
    held.push({ strategy: p.strategy, asset: p.asset, gross: Math.abs(p.held * px), netHigh: p.held * px, netLow: p.held * px });
    const high = (p.held + p.buys) * px;
    const low = (p.held - p.sells) * px;
    // As the gate's pairGross: whichever side of the working orders leaves the larger position.
    worst.push({ strategy: p.strategy, asset: p.asset, gross: Math.max(Math.abs(high), Math.abs(low)), netHigh: high, netLow: low });
  }
  return { ...usage(budget, held, overrides), worstCase: usage(budget, worst, overrides) };
}

function usage(budget: RiskBudget, pairs: readonly PairUse[], overrides: readonly LimitOverrideInForce[]): Utilization {
  const limit = (field: string, strategy: string | null, asset: string | null, base: number): { value: number; overridden: boolean } => {
    const o = overrides.find((x) => x.field === field && x.strategy === strategy && x.asset === asset);
    return o ? { value: o.value, overridden: true } : { value: base, overridden: false };
  };
  const line = (scope: string, used: number, l: { value: number; overridden: boolean }): UsageLine => ({
    scope,
    used,
    limit: l.value,
    utilization: l.value > 0 ? used / l.value : null,
    overridden: l.overridden,
  });
  const sum = (list: readonly PairUse[], f: (p: PairUse) => number): number => list.reduce((s, p) => s + f(p), 0);
  const strategies = budget.strategies.map((s) =>
    line(
      s.strategy,
      sum(
        pairs.filter((p) => p.strategy === s.strategy),
        (p) => p.gross,
      ),
      limit('maxGrossNotional', s.strategy, null, s.maxGrossNotional),
    ),
  );
  const assets = budget.assets.map((a) => {
    const used = pairs.find((p) => p.strategy === a.strategy && p.asset === a.asset)?.gross ?? 0;
    const own = limit('maxPositionNotional', a.strategy, a.asset, a.maxPositionNotional);
    const l = own.overridden ? own : limit('maxPositionNotional', null, a.asset, a.maxPositionNotional);
    return { ...line(`${a.strategy}/${a.asset}`, used, l), strategy: a.strategy, asset: a.asset };
  });
  const net = Math.max(Math.abs(sum(pairs, (p) => p.netHigh)), Math.abs(sum(pairs, (p) => p.netLow)));
  return {
    gross: line(
      'gross',
      sum(pairs, (p) => p.gross),
      limit('maxGrossNotional', null, null, budget.limits.maxGrossNotional),
    ),
    net: line('net', net, limit('maxNetNotional', null, null, budget.limits.maxNetNotional)),
    strategies,
    assets,
  };
}
