import { type Recommendation, commitRefusal } from '../../../risk/approval';
import type { BudgetVersion, RiskBudget } from '../../../risk/budget';
import { currency } from '../../../risk/units';
import { handBudget } from './fixtures';

const scaled = (b: RiskBudget, k: number): RiskBudget => ({
  ...b,
  limits: { ...b.limits, maxGrossNotional: currency(b.limits.maxGrossNotional * k) },
});
const version = (v: number, budget: RiskBudget): BudgetVersion => ({
  portfolioId: 'p1',
  version: v,
  committedAt: '2026-01-01T00:00:00Z',
  budget,
});
const rec = (budget: RiskBudget, baseVersion: number | null): Recommendation => ({
  id: 'r1',
  portfolioId: 'p1',
  createdAtMs: 0,
  expiresAtMs: null,
  reason: 'test',
  addsRisk: true,
  triggers: [],
  budget,
  baseVersion,
  summary: {},
});

describe('commit refusal', () => {
  const base = handBudget();
  it('lets a recommendation commit on the version it was judged against, or on none', () => {
    expect(commitRefusal(undefined, rec(scaled(base, 2), null))).toBeNull();
    expect(commitRefusal(version(3, base), rec(scaled(base, 2), 3))).toBeNull();
  });
  it('lets it commit on a moved budget when it adds no risk to it', () => {
    expect(commitRefusal(version(4, base), rec(scaled(base, 0.5), 3))).toBeNull();
  });
  it('refuses it, naming both versions, when the budget moved and it would add risk to the new one', () => {
    expect(commitRefusal(version(4, base), rec(scaled(base, 1.5), 3))).toBe(
      'the budget moved to version 4 since this recommendation was based on 3, and it would add risk to it',
    );
    expect(commitRefusal(version(1, base), rec(scaled(base, 1.5), null))).toMatch(/based on none/);
  });
});
