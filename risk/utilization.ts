/**
 * How much of its budget a book uses: gross and net notional against the portfolio limits, per
 * strategy against the strategy limits and per (strategy, asset) against the position limits, with
 * active overrides applied the way the gate applies them (an override replaces the limit in its
 * scope). Notionals are valued at the budget's reference prices, the prices the gate's limits were
 * computed at.
 */
import type { RiskBudget } from './budget';

export interface HeldPosition {
  readonly strategy: string;
  readonly asset: string;
  readonly quantity: number;
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

/** The levels the console colours: amber from 80 %, red from 100 %. */
export const UTILIZATION_WARN = 0.8;
export const UTILIZATION_BREACH = 1;

export function utilization(
  budget: RiskBudget,
  positions: readonly HeldPosition[],
  overrides: readonly LimitOverrideInForce[],
): Utilization {
  const price = new Map(budget.assets.map((a) => [a.asset, a.referencePrice]));
  const notional = (p: HeldPosition): number => p.quantity * (price.get(p.asset) ?? 0);
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
  const gross = positions.reduce((s, p) => s + Math.abs(notional(p)), 0);
  const net = positions.reduce((s, p) => s + notional(p), 0);
  const strategies = budget.strategies.map((s) => {
    const held = positions.filter((p) => p.strategy === s.strategy);
    return line(
      s.strategy,
      held.reduce((sum, p) => sum + Math.abs(notional(p)), 0),
      limit('maxGrossNotional', s.strategy, null, s.maxGrossNotional),
    );
  });
  const assets = budget.assets.map((a) => {
    const held = positions.find((p) => p.strategy === a.strategy && p.asset === a.asset);
    const own = limit('maxPositionNotional', a.strategy, a.asset, a.maxPositionNotional);
    const l = own.overridden ? own : limit('maxPositionNotional', null, a.asset, a.maxPositionNotional);
    return { ...line(`${a.strategy}/${a.asset}`, held ? Math.abs(notional(held)) : 0, l), strategy: a.strategy, asset: a.asset };
  });
  return {
    gross: line('gross', gross, limit('maxGrossNotional', null, null, budget.limits.maxGrossNotional)),
    net: line('net', Math.abs(net), limit('maxNetNotional', null, null, budget.limits.maxNetNotional)),
    strategies,
    assets,
  };
}
