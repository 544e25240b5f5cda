/**
 * What the risk checks saw, reported with the decision. Vols are fractions of capital, contributions
 * shares of risk. On its own so the exposure book can remember a decision's figures (for a retried
 * order) without depending on the checks.
 */
export interface RiskFigures {
  readonly volBefore: number;
  readonly volAfter: number;
  readonly volLimit: number;
  readonly volTarget: number;
  readonly contributionBefore: number;
  readonly contributionAfter: number;
  /** The strategy's risk budget share plus tolerance. */
  readonly contributionLimit: number;
}
