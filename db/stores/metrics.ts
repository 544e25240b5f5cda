/**
 * The success metrics as a time series (`metrics`), written once per idempotency key, and their
 * summary over a time window for the CLI and dashboards.
 */
import type pg from 'pg';
import type { MetricName } from '../../risk/kinds';
import type { Queryable } from '../pool';

export interface MetricPoint {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly name: MetricName;
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly observedAt: Date;
}

export interface MetricsSummary {
  readonly portfolioId: string;
  readonly since: string;
  /** Average share of allocated risk in use: total and per strategy. */
  readonly riskUtilization: { readonly total: number | null; readonly byStrategy: Record<string, number> };
  readonly grossUtilization: number | null;
  readonly realizedVsTargetVol: {
    readonly bookRealized: number | null;
    readonly bookForecast: number | null;
    readonly target: number | null;
  };
  readonly returnPerRisk: number | null;
  readonly regimeResponseMs: { readonly count: number; readonly median: number | null; readonly max: number | null };
  readonly approvalLatencyMs: { readonly count: number; readonly median: number | null; readonly max: number | null };
  readonly overrides: { readonly count: number; readonly perDay: number };
}

export class MetricsStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a cycle's points in one statement, so a reader sees all of them or none (a reader that saw
   * the cycle's risk utilization could otherwise miss its realized vol).
   */
  record(points: readonly MetricPoint[]): Promise<void> {
    return recordMetricsIn(this.pool, points);
  }

  summary(portfolioId: string, sinceMs: number): Promise<MetricsSummary> {
    return metricsSummary(this.pool, portfolioId, sinceMs);
  }
}

/** Writes one point inside the caller's transaction. */
export function recordMetricIn(db: Queryable, p: MetricPoint): Promise<void> {
  return recordMetricsIn(db, [p]);
}

/** Writes the points in one statement, each once per idempotency key; a non-finite value is not a measurement and is skipped. */
async function recordMetricsIn(db: Queryable, points: readonly MetricPoint[]): Promise<void> {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (finite.length === 0) return;
  await db.query(
    `INSERT INTO metrics (idempotency_key, portfolio_id, name, value, labels, observed_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::jsonb[], $6::timestamptz[])
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      finite.map((p) => p.idempotencyKey),
      finite.map((p) => p.portfolioId),
      finite.map((p) => p.name),
      finite.map((p) => p.value),
      finite.map((p) => JSON.stringify(p.labels)),
      finite.map((p) => p.observedAt.toISOString()),
    ],
  );
}

/** Averages, distributions and counts of the success metrics since `sinceMs` ago. */
export async function metricsSummary(pool: pg.Pool, portfolioId: string, sinceMs: number): Promise<MetricsSummary> {
  const since = new Date(Date.now() - sinceMs);
  const averages = await pool.query<{ name: string; strategy: string | null; scope: string | null; avg: number }>(
    `SELECT name, labels->>'strategy' AS strategy, labels->>'scope' AS scope, avg(value) AS avg FROM metrics
     WHERE portfolio_id = $1 AND observed_at >= $2 GROUP BY 1, 2, 3`,
    [portfolioId, since],
  );
  const avg = (name: string, scope?: string) =>
    averages.rows.find((r) => r.name === name && (scope === undefined || r.scope === scope))?.avg ?? null;
  const byStrategy = Object.fromEntries(
    averages.rows.filter((r) => r.name === 'risk_utilization' && r.scope === 'strategy').map((r) => [r.strategy as string, r.avg]),
  );
  const distribution = async (sql: string) => {
    const { rows } = await pool.query<{ n: string; median: number | null; max: number | null }>(sql, [portfolioId, since]);
    return { count: Number(rows[0].n), median: rows[0].median, max: rows[0].max };
  };
  const overrides = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM limit_overrides WHERE portfolio_id = $1 AND created_at >= $2',
    [portfolioId, since],
  );
  const days = Math.max(sinceMs / 86_400_000, 1 / 24);
  return {
    portfolioId,
    since: since.toISOString(),
    riskUtilization: { total: avg('risk_utilization', 'total'), byStrategy },
    grossUtilization: avg('gross_utilization'),
    realizedVsTargetVol: { bookRealized: avg('book_realized_vol'), bookForecast: avg('book_forecast_vol'), target: avg('target_vol') },
    returnPerRisk: avg('return_per_risk'),
    regimeResponseMs: await distribution(
      `SELECT count(response_ms) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY response_ms) AS median, max(response_ms) AS max
       FROM regime_changes WHERE portfolio_id = $1 AND detected_at >= $2`,
    ),
    approvalLatencyMs: await distribution(
      `SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS median, max(latency_ms) AS max
       FROM approval_decisions WHERE portfolio_id = $1 AND decided_at >= $2 AND decision <> 'EXPIRED'`,
    ),
    overrides: { count: Number(overrides.rows[0].n), perDay: Number(overrides.rows[0].n) / days },
  };
}
