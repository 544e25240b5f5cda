/** Validation of risk-budget vectors shared by every allocator. */
import { DataError } from '../timeseries';
import { type Fraction, fraction } from '../units';

export const BUDGET_SUM_TOLERANCE = 1e-9;

export class BudgetError extends DataError {}

/** Checks a budget vector: right length, finite, non-negative, summing to 1 within 1e-9. */
export function validateBudgets(budgets: readonly number[], count: number, what = 'risk budget'): readonly Fraction[] {
  if (budgets.length !== count) throw new BudgetError(`${what} has ${budgets.length} entries for ${count} assets`);
  budgets.forEach((b, i) => {
    if (!Number.isFinite(b)) throw new BudgetError(`${what} entry ${i + 1} is not a number`);
    if (b < 0) throw new BudgetError(`${what} entry ${i + 1} is negative (${b})`);
  });
  const sum = budgets.reduce((s, b) => s + b, 0);
  if (Math.abs(sum - 1) > BUDGET_SUM_TOLERANCE) throw new BudgetError(`${what} sums to ${sum}, not 1 (tolerance ${BUDGET_SUM_TOLERANCE})`);
  return budgets.map(fraction);
}

export function equalBudgets(count: number): readonly Fraction[] {
  return Array.from({ length: count }, () => fraction(1 / count));
}
