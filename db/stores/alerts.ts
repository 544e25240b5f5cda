/** Alerts raised by the loop, written once per idempotency key, with the delivery status of their webhook. */
import type pg from 'pg';
import type { Alert } from '../../risk/records';

export class AlertStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Inserts the alert unless its key exists; says whether this call wrote it and how its webhook fared so far. */
  async raise(alert: Alert): Promise<{ inserted: boolean; webhookStatus: string | null }> {
    const inserted = await this.pool.query(
      `INSERT INTO alerts (idempotency_key, portfolio_id, severity, kind, message, details) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [alert.idempotencyKey, alert.portfolioId, alert.severity, alert.kind, alert.message, JSON.stringify(alert.details)],
    );
    const { rows } = await this.pool.query<{ webhook_status: string | null }>(
      'SELECT webhook_status FROM alerts WHERE idempotency_key = $1',
      [alert.idempotencyKey],
    );
    return { inserted: inserted.rowCount === 1, webhookStatus: rows[0]?.webhook_status ?? null };
  }

  async setWebhookStatus(idempotencyKey: string, status: string): Promise<void> {
    await this.pool.query('UPDATE alerts SET webhook_status = $2 WHERE idempotency_key = $1', [idempotencyKey, status]);
  }
}
