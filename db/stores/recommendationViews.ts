/**
 * The gate's read of the loop's recommendations (GetRecommendations): newest first, with the engine's
 * detail. Kept apart from the loop's recommendations store, which writes them.
 */
import type pg from 'pg';

export interface RecommendationView {
  readonly id: string;
  /** PENDING, APPROVED, REJECTED, EXPIRED, COMMITTED or SUPERSEDED (the table's CHECK). */
  readonly status: string;
  readonly reason: string;
  readonly addsRisk: boolean;
  readonly createdAtMs: number;
  /** The JSON columns as stored. */
  readonly summary: unknown;
  readonly detail: unknown;
  readonly triggers: unknown;
  readonly committedVersion: number | null;
}

interface Row {
  id: string;
  status: string;
  reason: string;
  adds_risk: boolean;
  created_at: Date;
  summary: unknown;
  detail: unknown;
  triggers: unknown;
  committed_version: number | null;
}

export class RecommendationViewsStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The `limit` newest recommendations of a portfolio. */
  async latest(portfolioId: string, limit: number): Promise<RecommendationView[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT id, status, reason, adds_risk, created_at, summary, detail, triggers, committed_version FROM recommendations
       WHERE portfolio_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [portfolioId, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      reason: r.reason,
      addsRisk: r.adds_risk,
      createdAtMs: r.created_at.getTime(),
      summary: r.summary,
      detail: r.detail,
      triggers: r.triggers,
      committedVersion: r.committed_version,
    }));
  }
}
