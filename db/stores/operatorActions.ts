/** The audit trail of operator actions (pause/resume, trading state, overrides, manual rebalances). */
import type pg from 'pg';
import type { OperatorAction } from '../../risk/records';
import type { Queryable } from '../pool';

export class OperatorActionStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Records the action once per idempotency key. */
  async record(action: OperatorAction): Promise<void> {
    await recordOperatorActionIn(this.pool, action);
  }
}

/** Records an action inside the caller's transaction (the change it audits is written in the same one). */
export async function recordOperatorActionIn(db: Queryable, a: OperatorAction): Promise<void> {
  await db.query(
    `INSERT INTO operator_actions (idempotency_key, portfolio_id, action, operator, reason, details) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [a.idempotencyKey, a.portfolioId, a.action, a.operator, a.reason, JSON.stringify(a.details)],
  );
}
