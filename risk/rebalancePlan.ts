/**
 * The rebalancing plan the loop hands the OMS with a committed budget (through the outbox): target
 * notionals and per-asset order quantities that move the current positions to the budget's targets.
 */
import type { RiskBudget } from './budget';
import type { Position } from './holdings';

export interface PlannedOrder {
  readonly strategy: string;
  readonly asset: string;
  readonly referencePrice: number;
  readonly currentQuantity: number;
  readonly targetQuantity: number;
  /** Signed: target − current (positive = buy). */
  readonly deltaQuantity: number;
  readonly targetNotional: number;
}

export interface RebalancePlan {
  readonly budgetVersion: number;
  readonly regime: string;
  readonly cashWeight: number;
  readonly grossLeverage: number;
  readonly orders: readonly PlannedOrder[];
}

/** One order per (strategy, asset) of the budget; a target at a non-positive reference price is flat. */
export function rebalancePlan(budget: RiskBudget, version: number, positions: readonly Position[]): RebalancePlan {
  const held = new Map(positions.map((p) => [`${p.strategy}\u0000${p.asset}`, p.quantity]));
  const orders = budget.assets.map((a) => {
    const currentQuantity = held.get(`${a.strategy}\u0000${a.asset}`) ?? 0;
    const targetQuantity = a.referencePrice > 0 ? a.targetNotional / a.referencePrice : 0;
    return {
      strategy: a.strategy,
      asset: a.asset,
      referencePrice: a.referencePrice,
      currentQuantity,
      targetQuantity,
      deltaQuantity: targetQuantity - currentQuantity,
      targetNotional: a.targetNotional,
    };
  });
  return {
    budgetVersion: version,
    regime: budget.regime,
    cashWeight: budget.limits.cashWeight,
    grossLeverage: budget.limits.grossLeverage,
    orders,
  };
}
