/** Declared regime switches and how fast a committed budget answered each (also a `regime_response_ms` metric). */
import type pg from 'pg';
import type { RegimeChange } from '../../risk/regime/tracker';
import { inTransaction } from '../pool';
import { recordMetricIn } from './metrics';

export class RegimeChangeStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Records the change once per idempotency key; a committed one also records its response time. */
  async record(idempotencyKey: string, portfolioId: string, c: RegimeChange): Promise<void> {
    const responseMs = c.committedAtMs !== undefined ? c.committedAtMs - c.detectedAtMs : null;
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO regime_changes (idempotency_key, portfolio_id, from_regime, to_regime, detected_as_of, detected_at, committed_at, committed_version, response_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          idempotencyKey,
          portfolioId,
          c.from,
          c.to,
          c.detectedAsOf,
          new Date(c.detectedAtMs),
          c.committedAtMs !== undefined ? new Date(c.committedAtMs) : null,
          c.committedVersion ?? null,
          responseMs,
        ],
      );
      if (responseMs === null) return;
      await recordMetricIn(client, {
        idempotencyKey: `${idempotencyKey}:response`,
        portfolioId,
        name: 'regime_response_ms',
        value: responseMs,
        labels: { to: c.to },
        observedAt: new Date(c.committedAtMs as number),
      });
    });
  }
}
