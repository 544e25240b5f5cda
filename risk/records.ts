/**
 * What the loop writes down for people: alerts, the operator audit trail and approval decisions. Each
 * carries an idempotency key derived from workflow state, so a retried or replayed write lands once.
 * The workflows emit them (workflows/contract.ts) and the stores persist them (db/stores/).
 */
import type { AlertKind, AlertSeverity, ApprovalDecision, OperatorActionKind } from './kinds';

export interface Alert {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly severity: AlertSeverity;
  readonly kind: AlertKind;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface OperatorAction {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly action: OperatorActionKind;
  readonly operator: string;
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A human's (or the expiry's) decision on a recommendation that waited for approval. */
export interface ApprovalRecord {
  readonly idempotencyKey: string;
  readonly recommendationId: string;
  readonly portfolioId: string;
  readonly decision: ApprovalDecision;
  readonly approver: string;
  readonly reason: string;
  /** From the recommendation's creation to the decision. */
  readonly latencyMs: number;
}
