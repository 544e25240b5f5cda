/**
 * What moved between two committed budgets: every limit whose value changed, with before, after and
 * the change, so a reader sees "gross $4.76M → $14.86M (+212 %)" instead of two JSON documents.
 */
import type { RiskBudget } from './budget';

export interface LimitChange {
  /** Where the limit lives: `portfolio`, `strategy:<name>` or `asset:<strategy>/<asset>`. */
  readonly scope: string;
  readonly field: string;
  /** Null when the scope did not exist on that side. */
  readonly before: number | null;
  readonly after: number | null;
  readonly change: number | null;
  /** Change relative to before; null when before is null or zero. */
  readonly relative: number | null;
}

const PORTFOLIO_FIELDS = [
  'capital',
  'grossLeverage',
  'maxGrossNotional',
  'maxNetNotional',
  'maxOrderNotional',
  'priceCollar',
  'cashWeight',
] as const;
const STRATEGY_FIELDS = ['riskBudget', 'capital', 'maxGrossNotional', 'maxNetNotional'] as const;
const ASSET_FIELDS = ['targetWeight', 'targetNotional', 'maxPositionNotional', 'riskBudget', 'forecastVol'] as const;

/** Relative moves below this are noise of the solver, not changes a person needs to read. */
const EPSILON = 1e-9;

/** The limits that moved from `before` (undefined: no earlier version) to `after`, portfolio first. */
export function diffBudgets(before: RiskBudget | undefined, after: RiskBudget): LimitChange[] {
  const changes: LimitChange[] = [];
  const push = (scope: string, field: string, b: number | undefined, a: number | undefined): void => {
    const bv = b ?? null;
    const av = a ?? null;
    if (bv !== null && av !== null && Math.abs(av - bv) <= EPSILON * Math.max(1, Math.abs(bv))) return;
    const change = bv !== null && av !== null ? av - bv : null;
    changes.push({ scope, field, before: bv, after: av, change, relative: change !== null && bv ? change / Math.abs(bv) : null });
  };
  push('portfolio', 'volTarget', before?.volTarget, after.volTarget);
  push('portfolio', 'forecastVol', before?.forecastVol, after.forecastVol);
  for (const f of PORTFOLIO_FIELDS) push('portfolio', f, before?.limits[f], after.limits[f]);
  const keyed = <T>(items: readonly T[] | undefined, key: (t: T) => string): Map<string, T> =>
    new Map((items ?? []).map((t) => [key(t), t]));
  const strategiesBefore = keyed(before?.strategies, (s) => s.strategy);
  const strategiesAfter = keyed(after.strategies, (s) => s.strategy);
  for (const name of union(strategiesBefore.keys(), strategiesAfter.keys())) {
    for (const f of STRATEGY_FIELDS) push(`strategy:${name}`, f, strategiesBefore.get(name)?.[f], strategiesAfter.get(name)?.[f]);
  }
  const assetKey = (a: { strategy: string; asset: string }): string => `${a.strategy}/${a.asset}`;
  const assetsBefore = keyed(before?.assets, assetKey);
  const assetsAfter = keyed(after.assets, assetKey);
  for (const name of union(assetsBefore.keys(), assetsAfter.keys())) {
    for (const f of ASSET_FIELDS) push(`asset:${name}`, f, assetsBefore.get(name)?.[f], assetsAfter.get(name)?.[f]);
  }
  return changes;
}

const union = (a: Iterable<string>, b: Iterable<string>): string[] => [...new Set([...a, ...b])].sort();
