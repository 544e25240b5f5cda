/** Approval decisions on recommendations that waited for a human (or expired waiting): who, why, how fast. */
import type pg from 'pg';
import type { ApprovalRecord } from '../../risk/records';

export class ApprovalStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Records the decision once per idempotency key. */
  async record(d: ApprovalRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO approval_decisions (idempotency_key, recommendation_id, portfolio_id, decision, approver, reason, latency_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
      [d.idempotencyKey, d.recommendationId, d.portfolioId, d.decision, d.approver, d.reason, Math.round(d.latencyMs)],
    );
  }
}
