/** Allocation methods: inverse volatility, risk budgeting (ERC and general budgets), HRP. */
export { BudgetError, validateBudgets, equalBudgets, BUDGET_SUM_TOLERANCE } from './budgets';
export { inverseVolWeights, inverseVarianceWeights } from './inverseVol';
export { equalRiskContribution, riskBudgetingWeights, type RiskBudgetingOptions, type RiskBudgetingResult } from './riskBudgeting';
export {
  hrpWeights,
  linkageOf,
  leafOrder,
  inverseVarianceClusterVariance,
  type HrpOptions,
  type HrpResult,
  type LinkageMethod,
  type LinkageStep,
} from './hrp';
