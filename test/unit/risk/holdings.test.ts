import { notionalsByAsset, valueHoldings } from '../../../risk/holdings';
import { handBudget } from './fixtures';

describe('holdings at reference prices', () => {
  const budget = handBudget(); // A and B, both at reference price 100

  it('values each position at the budget reference price, summed per asset across strategies', () => {
    const holdings = valueHoldings(
      [
        { strategy: 'core', asset: 'A', quantity: 1_000, avgPrice: 90 },
        { strategy: 'hedge', asset: 'A', quantity: -200, avgPrice: 110 },
        { strategy: 'core', asset: 'B', quantity: 500, avgPrice: null },
      ],
      budget,
    );
    expect(holdings).toEqual([
      { strategy: 'core', asset: 'A', notional: 100_000 },
      { strategy: 'hedge', asset: 'A', notional: -20_000 },
      { strategy: 'core', asset: 'B', notional: 50_000 },
    ]);
    expect(notionalsByAsset(holdings)).toEqual({ A: 80_000, B: 50_000 });
  });

  it('values an asset the budget does not cover at its average cost, or 0 when none is known', () => {
    const holdings = valueHoldings(
      [
        { strategy: 'core', asset: 'ZZ', quantity: 10, avgPrice: 42 },
        { strategy: 'core', asset: 'YY', quantity: 10, avgPrice: null },
      ],
      budget,
    );
    expect(holdings.map((h) => h.notional)).toEqual([420, 0]);
  });
});
