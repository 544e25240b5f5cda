import type { LimitOverrideRequest } from '../risk/budget';

/**
 * What the gate needs from parts of Ballast it does not own. Injected through `startGate` options;
 * when absent, the RPCs that need them answer FAILED_PRECONDITION with a message.
 */
export interface RebalanceStarter {
  /** Starts the manual rebalance workflow; resolves with its workflow id. */
  start(portfolioId: string, requestedBy: string, reason: string): Promise<{ workflowId: string }>;
}

export interface RecommendationView {
  readonly id: string;
  readonly kind: string;
  /** ISO-8601. */
  readonly createdAt: string;
  readonly summary: string;
  /** The recommendation body as JSON. */
  readonly payloadJson: string;
}

export interface RecommendationReader {
  latest(portfolioId: string, limit: number): Promise<readonly RecommendationView[]>;
}

/** The override the gate's OverrideLimit RPC forwards; the approver is the caller's verified identity. */
export type LimitOverrideCommand = LimitOverrideRequest;

export interface LimitOverrider {
  /** Records the override (e.g. through the portfolio loop's overrideLimit update); resolves with its id. */
  override(portfolioId: string, command: LimitOverrideCommand): Promise<{ overrideId: number }>;
}
