/** The budget diff the console shows beside every version, and utilization against the limits in force. */
import type { RiskBudget } from '../../../risk/budget';
import { diffBudgets } from '../../../risk/budgetDiff';
import { utilization } from '../../../risk/utilization';
import { budget } from './pretrade/fixtures';

describe('diffBudgets', () => {
  it('lists only the limits that moved, with before, after and the relative change', () => {
    const before = budget();
    const after: RiskBudget = {
      ...before,
      limits: { ...before.limits, maxGrossNotional: 900_000 as RiskBudget['limits']['maxGrossNotional'] },
    };
    expect(diffBudgets(before, after)).toEqual([
      { scope: 'portfolio', field: 'maxGrossNotional', before: 600_000, after: 900_000, change: 300_000, relative: 0.5 },
    ]);
    expect(diffBudgets(before, before)).toEqual([]);
  });

  it('shows every limit as new against no predecessor, and scopes that appear or vanish with null on the missing side', () => {
    const first = diffBudgets(undefined, budget());
    expect(first.every((c) => c.before === null && c.change === null)).toBe(true);
    expect(first).toContainEqual(expect.objectContaining({ scope: 'asset:trend/AAPL', field: 'maxPositionNotional', after: 200_000 }));
    const without: RiskBudget = { ...budget(), strategies: budget().strategies.filter((s) => s.strategy !== 'carry') };
    expect(diffBudgets(budget(), without)).toContainEqual(
      expect.objectContaining({ scope: 'strategy:carry', field: 'maxGrossNotional', before: 180_000, after: null }),
    );
  });
});

describe('utilization', () => {
  const b = budget();

  it('values positions at reference prices against portfolio, strategy and position limits', () => {
    const u = utilization(
      b,
      [
        { strategy: 'trend', asset: 'AAPL', quantity: 1_000 }, // 100 000 of 200 000
        { strategy: 'carry', asset: 'XOM', quantity: -3_000 }, // −150 000 of 150 000
      ],
      [],
    );
    expect(u.gross).toEqual({ scope: 'gross', used: 250_000, limit: 600_000, utilization: 250_000 / 600_000, overridden: false });
    expect(u.net.used).toBe(50_000);
    expect(u.strategies.find((s) => s.scope === 'carry')?.utilization).toBeCloseTo(150_000 / 180_000);
    expect(u.assets.find((a) => a.scope === 'trend/AAPL')?.utilization).toBeCloseTo(0.5);
    expect(u.assets.find((a) => a.scope === 'carry/XOM')?.utilization).toBeCloseTo(1);
  });

  it('applies an override in its own scope only: the most specific position override first', () => {
    const u = utilization(
      b,
      [{ strategy: 'trend', asset: 'AAPL', quantity: 1_000 }],
      [
        { strategy: null, asset: null, field: 'maxGrossNotional', value: 1_000_000 },
        { strategy: null, asset: 'AAPL', field: 'maxPositionNotional', value: 400_000 },
        { strategy: 'trend', asset: 'AAPL', field: 'maxPositionNotional', value: 125_000 },
      ],
    );
    expect(u.gross).toMatchObject({ limit: 1_000_000, overridden: true });
    expect(u.strategies.find((s) => s.scope === 'trend')).toMatchObject({ limit: 420_000, overridden: false });
    expect(u.assets.find((a) => a.scope === 'trend/AAPL')).toMatchObject({ limit: 125_000, utilization: 0.8, overridden: true });
  });

  it('adds the worst case the gate checks: every working order filling on its worse side', () => {
    const u = utilization(
      b,
      [{ strategy: 'trend', asset: 'AAPL', quantity: 1_000 }], // 100 000 held
      [],
      [
        { strategy: 'trend', asset: 'AAPL', side: 'BUY', remaining: 500 }, // +50 000
        { strategy: 'trend', asset: 'AAPL', side: 'SELL', remaining: 2_500 }, // −250 000: −150 000 is the worse side
        { strategy: 'carry', asset: 'XOM', side: 'SELL', remaining: 1_000 }, // −50 000 (XOM at 50)
      ],
    );
    // What is held is unchanged by working orders.
    expect(u.gross.used).toBe(100_000);
    expect(u.worstCase.assets.find((a) => a.scope === 'trend/AAPL')?.used).toBe(150_000);
    expect(u.worstCase.assets.find((a) => a.scope === 'carry/XOM')?.used).toBe(50_000);
    expect(u.worstCase.gross.used).toBe(200_000);
    expect(u.worstCase.strategies.find((s) => s.scope === 'trend')?.used).toBe(150_000);
    // Net: all buys fill → 150 000; all sells fill → −150 000 − 50 000 = −200 000, the worse.
    expect(u.worstCase.net.used).toBe(200_000);
  });

  it('reports a zero limit as no utilization figure rather than dividing by zero', () => {
    const zero: RiskBudget = { ...b, limits: { ...b.limits, maxNetNotional: 0 as RiskBudget['limits']['maxNetNotional'] } };
    expect(utilization(zero, [], []).net.utilization).toBeNull();
  });
});
