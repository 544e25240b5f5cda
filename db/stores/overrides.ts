/** Temporary limit overrides: the row the gate enforces, its audit entry and an `override_created` metric, in one transaction. */
import type pg from 'pg';
import type { LimitOverrideRequest } from '../../risk/budget';
import { inTransaction } from '../pool';
import { recordMetricIn } from './metrics';
import { recordOperatorActionIn } from './operatorActions';

export class OverrideStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the override once per idempotency key; returns its id (the existing one on a retry). */
  async create(idempotencyKey: string, portfolioId: string, r: LimitOverrideRequest, now = new Date()): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO limit_overrides (idempotency_key, portfolio_id, strategy, asset, field, value, reason, approver, expires_at, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          idempotencyKey,
          portfolioId,
          r.strategy ?? null,
          r.asset ?? null,
          r.field,
          r.value,
          r.reason,
          r.approver,
          new Date(r.expiresAt),
          r.requestedBy ?? null,
        ],
      );
      const { rows } = await client.query<{ id: string }>('SELECT id FROM limit_overrides WHERE idempotency_key = $1', [idempotencyKey]);
      await recordOperatorActionIn(client, {
        idempotencyKey,
        portfolioId,
        action: 'override',
        operator: r.approver,
        reason: r.reason,
        details: { ...r },
      });
      await recordMetricIn(client, {
        idempotencyKey: `${idempotencyKey}:override`,
        portfolioId,
        name: 'override_created',
        value: 1,
        labels: { field: r.field },
        observedAt: now,
      });
      return Number(rows[0].id);
    });
  }

  /**
   * Ends an active override of the portfolio now, with its audit entry, in one transaction; the
   * table's NOTIFY trigger tells the gates. A retry (same key) answers as the first call did.
   */
  async revoke(idempotencyKey: string, portfolioId: string, r: { overrideId: number; operator: string; reason: string }): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const done = await client.query('SELECT 1 FROM operator_actions WHERE idempotency_key = $1', [idempotencyKey]);
      if (done.rowCount) return true;
      const { rowCount } = await client.query(
        `UPDATE limit_overrides SET revoked_at = now()
         WHERE id = $1 AND portfolio_id = $2 AND revoked_at IS NULL AND expires_at > now()`,
        [r.overrideId, portfolioId],
      );
      if (!rowCount) return false;
      await recordOperatorActionIn(client, {
        idempotencyKey,
        portfolioId,
        action: 'override-revoked',
        operator: r.operator,
        reason: r.reason,
        details: { overrideId: r.overrideId },
      });
      return true;
    });
  }
}
