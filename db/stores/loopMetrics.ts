/**
 * What the worker's /metrics endpoint reports about each portfolio's control loop, in one read per
 * scrape: the loop's heartbeat, the latest committed budget version, the declared regime and the
 * approvals waiting. Ages are measured against the database's clock, the one that stamped them.
 */
import type pg from 'pg';

export interface LoopMetricsRow {
  readonly portfolioId: string;
  /** Seconds since the loop last completed a cycle; null before its first. */
  readonly heartbeatAgeSeconds: number | null;
  readonly budgetVersion: number | null;
  /** The regime the loop last declared, else the latest budget's; null before either exists. */
  readonly regime: string | null;
  readonly pendingApprovals: number;
  /** Seconds the oldest pending recommendation has waited; null when none waits. */
  readonly oldestPendingAgeSeconds: number | null;
}

const SQL = `
SELECT p.id,
       extract(epoch FROM now() - p.loop_heartbeat_at)::float8 AS heartbeat_age,
       b.version,
       COALESCE(rc.to_regime, b.regime) AS regime,
       COALESCE(pr.pending, 0)::int AS pending,
       extract(epoch FROM now() - pr.oldest)::float8 AS oldest_pending_age
  FROM portfolios p
  LEFT JOIN LATERAL (SELECT version, regime FROM budget_versions WHERE portfolio_id = p.id ORDER BY version DESC LIMIT 1) b ON true
  LEFT JOIN LATERAL (SELECT to_regime FROM regime_changes WHERE portfolio_id = p.id ORDER BY detected_at DESC LIMIT 1) rc ON true
  LEFT JOIN LATERAL (SELECT count(*) AS pending, min(created_at) AS oldest FROM recommendations
                      WHERE portfolio_id = p.id AND status = 'PENDING') pr ON true
 ORDER BY p.id`;

interface Row {
  id: string;
  heartbeat_age: number | null;
  version: number | null;
  regime: string | null;
  pending: number;
  oldest_pending_age: number | null;
}

export class LoopMetricsStore {
  constructor(private readonly pool: pg.Pool) {}

  async read(): Promise<LoopMetricsRow[]> {
    const { rows } = await this.pool.query<Row>(SQL);
    return rows.map((r) => ({
      portfolioId: r.id,
      heartbeatAgeSeconds: r.heartbeat_age,
      budgetVersion: r.version,
      regime: r.regime,
      pendingApprovals: r.pending,
      oldestPendingAgeSeconds: r.oldest_pending_age,
    }));
  }
}
