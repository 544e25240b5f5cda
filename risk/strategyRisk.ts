/**
 * Budget against actual: each strategy's share of the book's risk next to the share its budget gives
 * it. The actual share is the strategy's Euler contribution x_sᵀΣx over the book's variance xᵀΣx
 * (shares sum to 1, correlation counted), with x the held notionals at the budget's reference prices
 * and Σ the risk model the budget names — the same vectors the gate's RISK_BUDGET check maintains.
 * An asset outside the model has no row in Σ: it counts in gross utilization, not here.
 */
import type { RiskBudget } from './budget';
import { CovarianceKernel, RiskVectors } from './pretrade/riskState';
import { type RiskModel, loadRiskModel } from './riskModel';
import type { HeldPosition } from './utilization';

export interface StrategyRiskShare {
  readonly strategy: string;
  /** The budget's share of portfolio risk for the strategy (0 for a strategy the budget does not name). */
  readonly budget: number;
  /** Its share of the held book's risk; null when the book carries no risk (nothing held in the model's assets). */
  readonly actual: number | null;
  /** Its contribution to the book's vol, as a fraction of capital (shares × book vol). */
  readonly volContribution: number;
}

export interface StrategyRiskReport {
  /** The held book's ex-ante vol, annualized, as a fraction of capital. */
  readonly bookVol: number;
  readonly strategies: readonly StrategyRiskShare[];
}

export function strategyRiskShares(model: RiskModel, budget: RiskBudget, positions: readonly HeldPosition[]): StrategyRiskReport {
  const kernel = new CovarianceKernel(loadRiskModel(model));
  const price = new Map(budget.assets.map((a) => [a.asset, a.referencePrice]));
  const vectors = new RiskVectors(kernel);
  vectors.reset(
    positions.flatMap((p) => {
      const index = kernel.assetIndex.get(p.asset);
      const value = p.quantity * (price.get(p.asset) ?? 0);
      return index === undefined || !Number.isFinite(value) ? [] : [{ strategy: p.strategy, index, value }];
    }),
  );
  const variance = vectors.variance;
  const capital = budget.limits.capital;
  const bookVol = variance > 0 && capital > 0 ? Math.sqrt(variance) / capital : 0;
  const names = [...budget.strategies.map((s) => s.strategy)];
  for (const [name] of vectors.strategies()) if (!names.includes(name)) names.push(name);
  return {
    bookVol,
    strategies: names.map((strategy) => {
      const contribution = vectors.strategy(strategy)?.contribution ?? 0;
      const actual = variance > 0 ? contribution / variance : null;
      return {
        strategy,
        budget: budget.strategies.find((s) => s.strategy === strategy)?.riskBudget ?? 0,
        actual,
        volContribution: actual === null ? 0 : actual * bookVol,
      };
    }),
  };
}
