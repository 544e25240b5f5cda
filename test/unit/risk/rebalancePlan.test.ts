import { rebalancePlan } from '../../../risk/rebalancePlan';
import { price } from '../../../risk/units';
import { handBudget } from './fixtures';

describe('rebalance plan', () => {
  it('orders each (strategy, asset) of the budget from its current quantity to the target at the reference price', () => {
    const budget = handBudget(); // targets A 300 000, B 200 000 at price 100
    const plan = rebalancePlan(budget, 7, [
      { strategy: 'core', asset: 'A', quantity: 1_000, avgPrice: 95 },
      { strategy: 'other', asset: 'B', quantity: 999, avgPrice: 95 }, // another strategy's B is not this pair
    ]);
    expect(plan).toEqual({
      budgetVersion: 7,
      regime: 'bear',
      cashWeight: 0.5,
      grossLeverage: 0.5,
      orders: [
        {
          strategy: 'core',
          asset: 'A',
          referencePrice: 100,
          currentQuantity: 1_000,
          targetQuantity: 3_000,
          deltaQuantity: 2_000,
          targetNotional: 300_000,
        },
        {
          strategy: 'core',
          asset: 'B',
          referencePrice: 100,
          currentQuantity: 0,
          targetQuantity: 2_000,
          deltaQuantity: 2_000,
          targetNotional: 200_000,
        },
      ],
    });
  });

  it('targets a flat position when the reference price is not positive', () => {
    const budget = handBudget();
    const broken = { ...budget, assets: [{ ...budget.assets[0], referencePrice: price(0) }] };
    expect(rebalancePlan(broken, 1, [{ strategy: 'core', asset: 'A', quantity: 5, avgPrice: null }]).orders[0]).toMatchObject({
      targetQuantity: 0,
      deltaQuantity: -5,
    });
  });
});
