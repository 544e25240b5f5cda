/** Allocation methods: inverse volatility, risk budgeting (ERC and general budgets, dense or factor Σ), HRP. */
export { BudgetError, validateBudgets, equalBudgets, BUDGET_SUM_TOLERANCE } from './budgets';
export { inverseVolWeights, inverseVarianceWeights } from './inverseVol';
export { equalRiskContribution, riskBudgetingWeights, type RiskBudgetingOptions, type RiskBudgetingResult } from './riskBudgeting';
export { NEWTON_SYSTEMS, type DenseNewtonSystem, type NewtonSystem } from './spinu';
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
