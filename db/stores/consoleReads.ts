/**
 * What the risk desk console reads: portfolios with their trading state and heartbeat, budget
 * versions, recommendations, overrides, alerts, regime changes and the gate's decisions. Read-only:
 * the console changes state only through the workflows' Updates (console/desk.ts), never here.
 * Lists page by keyset cursors (the last row's sort key), so a page never shifts under new rows.
 */
import type pg from 'pg';
import type { BudgetVersion, RiskBudget } from '../../risk/budget';
import type { RecommendationStatus, TradingState } from '../../risk/kinds';
import type { RiskModel } from '../../risk/riskModel';
import { type MetricsSummary, metricsSummary } from './metrics';
import { listTradingStates, type ScopeState } from './tradingStates';

export interface PortfolioRow {
  readonly id: string;
  readonly baseCurrency: string;
  readonly tradingState: TradingState;
  readonly stateReason: string | null;
  readonly stateChangedBy: string | null;
  readonly stateChangedAt: Date;
  readonly loopHeartbeatAt: Date | null;
  readonly latestVersion: number | null;
  readonly regime: string | null;
}

export interface BudgetVersionRow extends BudgetVersion {
  /** The recommendation that committed it, when one did (the initial budget or an approved change). */
  readonly recommendationId: string | null;
  readonly reason: string | null;
  readonly approver: string | null;
  readonly approvalReason: string | null;
}

/** A version's headline for lists and charts. */
export interface BudgetVersionSummary {
  readonly version: number;
  readonly committedAt: string;
  readonly regime: string;
  readonly asOf: string;
  readonly grossLimit: number;
  readonly forecastVol: number;
  readonly recommendationId: string | null;
  readonly reason: string | null;
  readonly approver: string | null;
}

export interface RecommendationRow {
  readonly id: string;
  readonly status: RecommendationStatus;
  readonly reason: string;
  readonly addsRisk: boolean;
  readonly baseVersion: number | null;
  readonly committedVersion: number | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly decidedAt: Date | null;
  readonly triggers: unknown;
  readonly summary: unknown;
  readonly budget: RiskBudget;
}

export interface OverrideRow {
  readonly id: number;
  readonly strategy: string | null;
  readonly asset: string | null;
  readonly field: string;
  readonly value: number;
  readonly reason: string;
  readonly approver: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

export interface AlertRow {
  readonly key: string;
  readonly severity: string;
  readonly kind: string;
  readonly message: string;
  readonly details: unknown;
  readonly createdAt: Date;
}

export interface RegimeChangeRow {
  readonly from: string | null;
  readonly to: string;
  readonly detectedAsOf: string;
  readonly detectedAt: Date;
  readonly committedAt: Date | null;
  readonly committedVersion: number | null;
  readonly responseMs: number | null;
}

export interface GateDecisionRow {
  readonly id: number;
  readonly decidedAt: Date;
  readonly replica: string;
  readonly rpc: string;
  readonly strategy: string;
  readonly instrument: string;
  readonly side: string;
  readonly quantity: number;
  readonly price: number;
  readonly decision: string;
  readonly approvedQuantity: number;
  readonly reasons: string[];
  readonly detail: string;
  readonly budgetVersion: number;
  readonly tradingState: string;
  readonly latencyUs: number;
}

export interface DecisionSummary {
  readonly total: number;
  readonly denied: number;
  readonly denialsByReason: Record<string, number>;
  readonly latencyUs: { readonly p50: number | null; readonly p99: number | null };
}

/** What the regime timeline draws over one window (console/timeline.ts shapes it). */
export interface RegimeTimelineRows {
  /** Mean filtered probability of each regime per time bucket, oldest first. */
  readonly probabilities: readonly { readonly at: Date; readonly regime: string; readonly probability: number }[];
  /** Regime switches inside the window, oldest first, and the last one before it (the regime the window opens in). */
  readonly changes: readonly RegimeChangeRow[];
  readonly changeBefore: RegimeChangeRow | undefined;
  /** The regime of the last budget committed before the window (when no switch is recorded before it). */
  readonly regimeBefore: string | null;
  /** Budget versions committed inside the window, oldest first. */
  readonly versions: readonly {
    readonly version: number;
    readonly committedAt: Date;
    readonly regime: string;
    readonly reason: string | null;
  }[];
  /** Overrides in force at some moment of the window, by creation. */
  readonly overrides: readonly OverrideRow[];
}

export class ConsoleReadStore {
  constructor(private readonly pool: pg.Pool) {}

  async portfolios(): Promise<PortfolioRow[]> {
    return this.portfolioRows(null);
  }

  /** The trading state of every scope of a portfolio (db/stores/tradingStates.ts), with who set it, why and when. */
  tradingStates(portfolioId: string): Promise<ScopeState[]> {
    return listTradingStates(this.pool, portfolioId);
  }

  async portfolio(id: string): Promise<PortfolioRow | undefined> {
    return (await this.portfolioRows(id))[0];
  }

  private async portfolioRows(id: string | null): Promise<PortfolioRow[]> {
    const { rows } = await this.pool.query<{
      id: string;
      base_currency: string;
      trading_state: TradingState;
      state_reason: string | null;
      state_changed_by: string | null;
      updated_at: Date;
      loop_heartbeat_at: Date | null;
      version: number | null;
      regime: string | null;
    }>(
      `SELECT p.id, p.base_currency, p.trading_state, p.state_reason, p.state_changed_by, p.updated_at, p.loop_heartbeat_at, b.version, b.regime
       FROM portfolios p
       LEFT JOIN LATERAL (SELECT version, regime FROM budget_versions WHERE portfolio_id = p.id ORDER BY version DESC LIMIT 1) b ON true
       WHERE $1::text IS NULL OR p.id = $1 ORDER BY p.id`,
      [id],
    );
    return rows.map((r) => ({
      id: r.id,
      baseCurrency: r.base_currency,
      tradingState: r.trading_state,
      stateReason: r.state_reason,
      stateChangedBy: r.state_changed_by,
      stateChangedAt: r.updated_at,
      loopHeartbeatAt: r.loop_heartbeat_at,
      latestVersion: r.version,
      regime: r.regime,
    }));
  }

  /** Versions newest first, those below `beforeVersion` when given: the headline of each, not the whole budget. */
  async budgetVersions(portfolioId: string, limit: number, beforeVersion?: number): Promise<BudgetVersionSummary[]> {
    const { rows } = await this.pool.query<{
      version: number;
      committed_at: Date;
      regime: string;
      as_of: Date;
      gross: number;
      forecast_vol: number;
      rec_id: string | null;
      rec_reason: string | null;
      approver: string | null;
    }>(
      `SELECT b.version, b.committed_at, b.regime, b.as_of, (b.budget #>> '{limits,maxGrossNotional}')::float8 AS gross,
              (b.budget ->> 'forecastVol')::float8 AS forecast_vol, r.id AS rec_id, r.reason AS rec_reason, a.approver
       FROM budget_versions b
       LEFT JOIN recommendations r ON r.portfolio_id = b.portfolio_id AND r.committed_version = b.version
       LEFT JOIN LATERAL (SELECT approver FROM approval_decisions d WHERE d.recommendation_id = r.id AND d.decision = 'APPROVED'
                          ORDER BY decided_at LIMIT 1) a ON true
       WHERE b.portfolio_id = $1 AND ($2::int IS NULL OR b.version < $2) ORDER BY b.version DESC LIMIT $3`,
      [portfolioId, beforeVersion ?? null, limit],
    );
    return rows.map((r) => ({
      version: r.version,
      committedAt: r.committed_at.toISOString(),
      regime: r.regime,
      asOf: r.as_of.toISOString(),
      grossLimit: r.gross,
      forecastVol: r.forecast_vol,
      recommendationId: r.rec_id,
      reason: r.rec_reason,
      approver: r.approver,
    }));
  }

  /** One version and its predecessor (undefined when absent). */
  async budgetVersionWithPredecessor(
    portfolioId: string,
    version: number,
  ): Promise<{ version: BudgetVersionRow | undefined; predecessor: BudgetVersionRow | undefined }> {
    const rows = await this.versionRows('b.portfolio_id = $1 AND b.version <= $2', [portfolioId, version], 2);
    const current = rows[0]?.version === version ? rows[0] : undefined;
    return { version: current, predecessor: current ? rows[1] : undefined };
  }

  private async versionRows(where: string, params: unknown[], limit: number): Promise<BudgetVersionRow[]> {
    const { rows } = await this.pool.query<{
      portfolio_id: string;
      version: number;
      budget: RiskBudget;
      committed_at: Date;
      rec_id: string | null;
      rec_reason: string | null;
      approver: string | null;
      approval_reason: string | null;
    }>(
      `SELECT b.portfolio_id, b.version, b.budget, b.committed_at, r.id AS rec_id, r.reason AS rec_reason, a.approver, a.reason AS approval_reason
       FROM budget_versions b
       LEFT JOIN recommendations r ON r.portfolio_id = b.portfolio_id AND r.committed_version = b.version
       LEFT JOIN LATERAL (SELECT approver, reason FROM approval_decisions d WHERE d.recommendation_id = r.id AND d.decision = 'APPROVED'
                          ORDER BY decided_at LIMIT 1) a ON true
       WHERE ${where} ORDER BY b.version DESC LIMIT ${Number(limit)}`,
      params,
    );
    return rows.map((r) => ({
      portfolioId: r.portfolio_id,
      version: r.version,
      committedAt: r.committed_at.toISOString(),
      budget: r.budget,
      recommendationId: r.rec_id,
      reason: r.rec_reason,
      approver: r.approver,
      approvalReason: r.approval_reason,
    }));
  }

  /** Pending first, then newest first; `after` is the (pending, createdAt, id) key of the previous page's last row. */
  async recommendations(
    portfolioId: string,
    limit: number,
    after?: { pending: boolean; createdAt: Date; id: string },
  ): Promise<RecommendationRow[]> {
    const { rows } = await this.pool.query<RecRow>(
      `SELECT ${REC_COLUMNS} FROM recommendations WHERE portfolio_id = $1
         AND ($2::int IS NULL OR ((status = 'PENDING')::int, created_at, id) < ($2::int, $3::timestamptz, $4::text))
       ORDER BY (status = 'PENDING')::int DESC, created_at DESC, id DESC LIMIT $5`,
      [portfolioId, after ? Number(after.pending) : null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toRecommendation);
  }

  async recommendation(portfolioId: string, id: string): Promise<RecommendationRow | undefined> {
    const { rows } = await this.pool.query<RecRow>(`SELECT ${REC_COLUMNS} FROM recommendations WHERE portfolio_id = $1 AND id = $2`, [
      portfolioId,
      id,
    ]);
    return rows[0] ? toRecommendation(rows[0]) : undefined;
  }

  /** Active overrides first (soonest expiry first), then the history newest first; `afterId` pages the history. */
  async overrides(portfolioId: string, now: Date): Promise<{ active: OverrideRow[]; history: OverrideRow[] }> {
    const { rows } = await this.pool.query<OverrideDbRow>(
      `SELECT id, strategy, asset, field, value, reason, approver, created_at, expires_at, revoked_at FROM limit_overrides
       WHERE portfolio_id = $1 ORDER BY id DESC LIMIT 200`,
      [portfolioId],
    );
    const all = rows.map(toOverride);
    const isActive = (o: OverrideRow): boolean => o.revokedAt === null && o.expiresAt > now;
    return {
      active: all.filter(isActive).sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime()),
      history: all.filter((o) => !isActive(o)),
    };
  }

  async override(portfolioId: string, id: number): Promise<OverrideRow | undefined> {
    const { rows } = await this.pool.query<OverrideDbRow>(
      `SELECT id, strategy, asset, field, value, reason, approver, created_at, expires_at, revoked_at FROM limit_overrides
       WHERE portfolio_id = $1 AND id = $2`,
      [portfolioId, id],
    );
    return rows[0] ? toOverride(rows[0]) : undefined;
  }

  /** Newest first; `after` is the previous page's last (createdAt, key). */
  async alerts(portfolioId: string, limit: number, after?: { createdAt: Date; key: string }): Promise<AlertRow[]> {
    const { rows } = await this.pool.query<{
      idempotency_key: string;
      severity: string;
      kind: string;
      message: string;
      details: unknown;
      created_at: Date;
    }>(
      `SELECT idempotency_key, severity, kind, message, details, created_at FROM alerts
       WHERE portfolio_id = $1 AND ($2::timestamptz IS NULL OR (created_at, idempotency_key) < ($2::timestamptz, $3::text))
       ORDER BY created_at DESC, idempotency_key DESC LIMIT $4`,
      [portfolioId, after?.createdAt ?? null, after?.key ?? null, limit],
    );
    return rows.map((r) => ({
      key: r.idempotency_key,
      severity: r.severity,
      kind: r.kind,
      message: r.message,
      details: r.details,
      createdAt: r.created_at,
    }));
  }

  /** Regime switches newest first, with the budget version each caused. */
  async regimeChanges(portfolioId: string, limit: number, beforeDetectedAt?: Date): Promise<RegimeChangeRow[]> {
    const { rows } = await this.pool.query<RegimeChangeDbRow>(
      `SELECT ${REGIME_CHANGE_COLUMNS} FROM regime_changes
       WHERE portfolio_id = $1 AND ($2::timestamptz IS NULL OR detected_at < $2) ORDER BY detected_at DESC LIMIT $3`,
      [portfolioId, beforeDetectedAt ?? null, limit],
    );
    return rows.map(toRegimeChange);
  }

  /**
   * The regime timeline of [since, until): filtered probabilities averaged into buckets of `bucketMs`
   * (so a day of one-second bars is a few hundred points, not 86 400), the switches, the committed
   * versions and the overrides in force.
   */
  async regimeTimeline(portfolioId: string, since: Date, until: Date, bucketMs: number): Promise<RegimeTimelineRows> {
    const bucketS = Math.max(1, bucketMs / 1000);
    const [probabilities, changes, before, versions, overrides] = await Promise.all([
      this.pool.query<{ at: Date; regime: string; probability: number }>(
        `SELECT to_timestamp(floor(extract(epoch FROM observed_at) / $4) * $4) AS at, labels->>'regime' AS regime, avg(value) AS probability
         FROM metrics WHERE portfolio_id = $1 AND name = 'regime_probability' AND observed_at >= $2 AND observed_at < $3
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [portfolioId, since, until, bucketS],
      ),
      this.pool.query<RegimeChangeDbRow>(
        `SELECT ${REGIME_CHANGE_COLUMNS} FROM regime_changes WHERE portfolio_id = $1 AND detected_at >= $2 AND detected_at < $3
         ORDER BY detected_at LIMIT 1000`,
        [portfolioId, since, until],
      ),
      this.pool.query<RegimeChangeDbRow & { budget_regime: string | null }>(
        `SELECT c.*, (SELECT regime FROM budget_versions WHERE portfolio_id = $1 AND committed_at < $2 ORDER BY version DESC LIMIT 1) AS budget_regime
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT ${REGIME_CHANGE_COLUMNS} FROM regime_changes WHERE portfolio_id = $1 AND detected_at < $2
                            ORDER BY detected_at DESC LIMIT 1) c ON true`,
        [portfolioId, since],
      ),
      this.pool.query<{ version: number; committed_at: Date; regime: string; reason: string | null }>(
        `SELECT b.version, b.committed_at, b.regime, r.reason FROM budget_versions b
         LEFT JOIN recommendations r ON r.portfolio_id = b.portfolio_id AND r.committed_version = b.version
         WHERE b.portfolio_id = $1 AND b.committed_at >= $2 AND b.committed_at < $3 ORDER BY b.version LIMIT 1000`,
        [portfolioId, since, until],
      ),
      this.pool.query<OverrideDbRow>(
        `SELECT id, strategy, asset, field, value, reason, approver, created_at, expires_at, revoked_at FROM limit_overrides
         WHERE portfolio_id = $1 AND created_at < $3 AND least(expires_at, coalesce(revoked_at, expires_at)) > $2 ORDER BY id LIMIT 1000`,
        [portfolioId, since, until],
      ),
    ]);
    const first = before.rows[0];
    return {
      probabilities: probabilities.rows,
      changes: changes.rows.map(toRegimeChange),
      changeBefore: first?.to_regime ? toRegimeChange(first) : undefined,
      regimeBefore: first?.budget_regime ?? null,
      versions: versions.rows.map((v) => ({ version: v.version, committedAt: v.committed_at, regime: v.regime, reason: v.reason })),
      overrides: overrides.rows.map(toOverride),
    };
  }

  /**
   * The gate's decisions newest first; `before` (the previous page's last decidedAt and id) pages back.
   * Ordered by decision time so the (portfolio_id, decided_at) index serves it on a table of millions.
   */
  async gateDecisions(portfolioId: string, limit: number, before?: { decidedAt: Date; id: number }): Promise<GateDecisionRow[]> {
    const { rows } = await this.pool.query<{
      id: string;
      decided_at: Date;
      replica: string;
      rpc: string;
      strategy: string;
      instrument: string;
      side: string;
      quantity: number;
      price: number;
      decision: string;
      approved_quantity: number;
      reasons: string[];
      detail: string;
      budget_version: number;
      trading_state: string;
      latency_us: number;
    }>(
      `SELECT id, decided_at, replica, rpc, strategy, instrument, side, quantity, price, decision, approved_quantity, reasons, detail,
              budget_version, trading_state, latency_us
       FROM gate_decisions WHERE portfolio_id = $1 AND ($2::timestamptz IS NULL OR (decided_at, id) < ($2::timestamptz, $3::bigint))
       ORDER BY decided_at DESC, id DESC LIMIT $4`,
      [portfolioId, before?.decidedAt ?? null, before?.id ?? null, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      decidedAt: r.decided_at,
      replica: r.replica,
      rpc: r.rpc,
      strategy: r.strategy,
      instrument: r.instrument,
      side: r.side,
      quantity: r.quantity,
      price: r.price,
      decision: r.decision,
      approvedQuantity: r.approved_quantity,
      reasons: r.reasons,
      detail: r.detail,
      budgetVersion: r.budget_version,
      tradingState: r.trading_state,
      latencyUs: r.latency_us,
    }));
  }

  /** Counts, denials by reason and latency percentiles of the decisions since `since`. */
  async decisionSummary(portfolioId: string, since: Date): Promise<DecisionSummary> {
    const totals = await this.pool.query<{ total: string; denied: string; p50: number | null; p99: number | null }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE decision = 'DENY') AS denied,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_us) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_us) AS p99
       FROM gate_decisions WHERE portfolio_id = $1 AND decided_at >= $2`,
      [portfolioId, since],
    );
    const byReason = await this.pool.query<{ reason: string; n: string }>(
      `SELECT reason, count(*) AS n FROM gate_decisions, unnest(reasons) AS reason
       WHERE portfolio_id = $1 AND decided_at >= $2 AND decision = 'DENY' GROUP BY reason ORDER BY n DESC`,
      [portfolioId, since],
    );
    const t = totals.rows[0];
    return {
      total: Number(t.total),
      denied: Number(t.denied),
      denialsByReason: Object.fromEntries(byReason.rows.map((r) => [r.reason, Number(r.n)])),
      latencyUs: { p50: t.p50, p99: t.p99 },
    };
  }

  /** The risk model a budget names (its `riskLimits.modelId`). */
  async riskModel(id: string): Promise<RiskModel | undefined> {
    const { rows } = await this.pool.query<{ body: RiskModel }>('SELECT body FROM risk_models WHERE id = $1', [id]);
    return rows[0]?.body;
  }

  /** The success metrics over the last `windowMs` (the same summary `ballast metrics` prints). */
  async successMetrics(portfolioId: string, windowMs: number): Promise<MetricsSummary> {
    return metricsSummary(this.pool, portfolioId, windowMs);
  }

  /** The last recorded value of each success metric (utilization, vol, return per risk). */
  async latestMetrics(portfolioId: string): Promise<{ name: string; value: number; labels: Record<string, string>; observedAt: Date }[]> {
    const { rows } = await this.pool.query<{ name: string; value: number; labels: Record<string, string>; observed_at: Date }>(
      `SELECT DISTINCT ON (name, labels) name, value, labels, observed_at FROM metrics
       WHERE portfolio_id = $1 AND observed_at > now() - interval '1 day' ORDER BY name, labels, observed_at DESC`,
      [portfolioId],
    );
    return rows.map((r) => ({ name: r.name, value: r.value, labels: r.labels, observedAt: r.observed_at }));
  }
}

const REGIME_CHANGE_COLUMNS = 'from_regime, to_regime, detected_as_of, detected_at, committed_at, committed_version, response_ms';

interface RegimeChangeDbRow {
  from_regime: string | null;
  to_regime: string;
  detected_as_of: string;
  detected_at: Date;
  committed_at: Date | null;
  committed_version: number | null;
  response_ms: string | null;
}

const toRegimeChange = (r: RegimeChangeDbRow): RegimeChangeRow => ({
  from: r.from_regime,
  to: r.to_regime,
  detectedAsOf: r.detected_as_of,
  detectedAt: r.detected_at,
  committedAt: r.committed_at,
  committedVersion: r.committed_version,
  responseMs: r.response_ms === null ? null : Number(r.response_ms),
});

const REC_COLUMNS =
  'id, status, reason, adds_risk, base_version, committed_version, created_at, expires_at, decided_at, triggers, summary, budget';

interface RecRow {
  id: string;
  status: RecommendationStatus;
  reason: string;
  adds_risk: boolean;
  base_version: number | null;
  committed_version: number | null;
  created_at: Date;
  expires_at: Date | null;
  decided_at: Date | null;
  triggers: unknown;
  summary: unknown;
  budget: RiskBudget;
}

const toRecommendation = (r: RecRow): RecommendationRow => ({
  id: r.id,
  status: r.status,
  reason: r.reason,
  addsRisk: r.adds_risk,
  baseVersion: r.base_version,
  committedVersion: r.committed_version,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at,
  triggers: r.triggers,
  summary: r.summary,
  budget: r.budget,
});

interface OverrideDbRow {
  id: string;
  strategy: string | null;
  asset: string | null;
  field: string;
  value: number;
  reason: string;
  approver: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const toOverride = (r: OverrideDbRow): OverrideRow => ({
  id: Number(r.id),
  strategy: r.strategy,
  asset: r.asset,
  field: r.field,
  value: r.value,
  reason: r.reason,
  approver: r.approver,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});
