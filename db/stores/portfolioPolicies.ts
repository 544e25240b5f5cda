/**
 * Portfolios as `ballast portfolio create` registers them, and the versions of each one's policy.
 * A policy document is stored in a `json` column, byte for byte as validated: jsonb would reorder
 * keys, and regime_allocations is ordered calm → turbulent.
 */
import type pg from 'pg';
import type { MarketDataSpec } from '../../risk/marketData';
import { inTransaction } from '../pool';

export const POLICY_STATUSES = ['PROPOSED', 'PENDING_APPROVAL', 'ACTIVE', 'REJECTED', 'EXPIRED', 'SUPERSEDED'] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

export interface PolicyVersion {
  readonly portfolioId: string;
  readonly version: number;
  readonly document: unknown;
  readonly status: PolicyStatus;
  readonly addsRisk: boolean | null;
  readonly riskReasons: readonly string[];
  readonly recommendationId: string | null;
  readonly requestedBy: string;
  readonly reason: string;
  readonly source: string | null;
  readonly createdAt: string;
  readonly decidedAt: string | null;
}

export interface PortfolioSummary {
  readonly id: string;
  readonly baseCurrency: string;
  readonly marketData: MarketDataSpec | null;
  readonly tradingState: string;
  readonly activePolicyVersion: number | null;
  readonly latestPolicyVersion: number | null;
  readonly latestBudgetVersion: number | null;
  readonly loopHeartbeatAt: string | null;
  readonly createdAt: string;
}

export interface NewPortfolio {
  readonly id: string;
  readonly baseCurrency: string;
  readonly marketData: MarketDataSpec;
  readonly document: unknown;
  readonly requestedBy: string;
  readonly source: string | null;
}

interface PolicyRow {
  portfolio_id: string;
  version: number;
  document: unknown;
  status: PolicyStatus;
  adds_risk: boolean | null;
  risk_reasons: string[];
  recommendation_id: string | null;
  requested_by: string;
  reason: string;
  source: string | null;
  created_at: Date;
  decided_at: Date | null;
}

const policyOf = (r: PolicyRow): PolicyVersion => ({
  portfolioId: r.portfolio_id,
  version: r.version,
  document: r.document,
  status: r.status,
  addsRisk: r.adds_risk,
  riskReasons: r.risk_reasons,
  recommendationId: r.recommendation_id,
  requestedBy: r.requested_by,
  reason: r.reason,
  source: r.source,
  createdAt: r.created_at.toISOString(),
  decidedAt: r.decided_at?.toISOString() ?? null,
});

export class PortfolioPolicyStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Registers a portfolio with its first policy (version 1, ACTIVE). False, and nothing written, when
   * the portfolio already has a policy (it was created before).
   */
  async create(p: NewPortfolio): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO portfolios (id, base_currency, market_data) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET market_data = COALESCE(portfolios.market_data, EXCLUDED.market_data)`,
        [p.id, p.baseCurrency, JSON.stringify(p.marketData)],
      );
      const { rowCount } = await client.query(
        `INSERT INTO portfolio_policies (portfolio_id, version, document, status, adds_risk, requested_by, reason, source, decided_at)
         VALUES ($1, 1, $2::json, 'ACTIVE', false, $3, 'created', $4, now()) ON CONFLICT DO NOTHING`,
        [p.id, JSON.stringify(p.document), p.requestedBy, p.source],
      );
      return rowCount === 1;
    });
  }

  /** Writes the next policy version as PROPOSED and returns its number. */
  async propose(portfolioId: string, document: unknown, requestedBy: string, reason: string, source: string | null): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      // The portfolio row lock serializes proposers: versions are dense.
      const locked = await client.query('SELECT 1 FROM portfolios WHERE id = $1 FOR UPDATE', [portfolioId]);
      if (locked.rowCount === 0) throw new Error(`unknown portfolio "${portfolioId}"`);
      const { rows } = await client.query<{ version: number }>(
        `INSERT INTO portfolio_policies (portfolio_id, version, document, status, requested_by, reason, source)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2::json, 'PROPOSED', $3, $4, $5 FROM portfolio_policies WHERE portfolio_id = $1
         RETURNING version`,
        [portfolioId, JSON.stringify(document), requestedBy, reason, source],
      );
      return rows[0].version;
    });
  }

  /** Records what the loop decided about a version (idempotent: the same status written twice is one). */
  async setStatus(
    portfolioId: string,
    version: number,
    status: PolicyStatus,
    detail: { readonly addsRisk?: boolean; readonly riskReasons?: readonly string[]; readonly recommendationId?: string | null } = {},
  ): Promise<void> {
    await this.pool.query(
      `UPDATE portfolio_policies SET status = $3, adds_risk = COALESCE($4, adds_risk), risk_reasons = COALESCE($5, risk_reasons),
         recommendation_id = COALESCE($6, recommendation_id),
         decided_at = CASE WHEN $3 IN ('ACTIVE', 'REJECTED', 'EXPIRED', 'SUPERSEDED') THEN COALESCE(decided_at, now()) ELSE decided_at END
       WHERE portfolio_id = $1 AND version = $2`,
      [portfolioId, version, status, detail.addsRisk ?? null, detail.riskReasons ?? null, detail.recommendationId ?? null],
    );
  }

  /** The policy in force: the newest ACTIVE version. */
  async active(portfolioId: string): Promise<PolicyVersion | undefined> {
    const { rows } = await this.pool.query<PolicyRow>(
      `SELECT * FROM portfolio_policies WHERE portfolio_id = $1 AND status = 'ACTIVE' ORDER BY version DESC LIMIT 1`,
      [portfolioId],
    );
    return rows[0] ? policyOf(rows[0]) : undefined;
  }

  async version(portfolioId: string, version: number): Promise<PolicyVersion | undefined> {
    const { rows } = await this.pool.query<PolicyRow>('SELECT * FROM portfolio_policies WHERE portfolio_id = $1 AND version = $2', [
      portfolioId,
      version,
    ]);
    return rows[0] ? policyOf(rows[0]) : undefined;
  }

  /** Every version, newest first. */
  async history(portfolioId: string): Promise<PolicyVersion[]> {
    const { rows } = await this.pool.query<PolicyRow>('SELECT * FROM portfolio_policies WHERE portfolio_id = $1 ORDER BY version DESC', [
      portfolioId,
    ]);
    return rows.map(policyOf);
  }

  /** Portfolios with a policy (created by `ballast portfolio create`), by id. */
  async list(): Promise<PortfolioSummary[]> {
    return this.summaries('');
  }

  async summary(portfolioId: string): Promise<PortfolioSummary | undefined> {
    return (await this.summaries('AND p.id = $1', [portfolioId]))[0];
  }

  private async summaries(where: string, params: unknown[] = []): Promise<PortfolioSummary[]> {
    const { rows } = await this.pool.query<{
      id: string;
      base_currency: string;
      market_data: MarketDataSpec | null;
      trading_state: string;
      active_version: number | null;
      latest_version: number | null;
      budget_version: number | null;
      loop_heartbeat_at: Date | null;
      created_at: Date;
    }>(
      `SELECT p.id, p.base_currency, p.market_data, p.trading_state, p.loop_heartbeat_at, p.created_at,
              (SELECT MAX(version) FROM portfolio_policies WHERE portfolio_id = p.id AND status = 'ACTIVE') AS active_version,
              (SELECT MAX(version) FROM portfolio_policies WHERE portfolio_id = p.id) AS latest_version,
              (SELECT MAX(version) FROM budget_versions WHERE portfolio_id = p.id) AS budget_version
         FROM portfolios p
        WHERE EXISTS (SELECT 1 FROM portfolio_policies WHERE portfolio_id = p.id) ${where}
        ORDER BY p.id`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      baseCurrency: r.base_currency,
      marketData: r.market_data,
      tradingState: r.trading_state,
      activePolicyVersion: r.active_version,
      latestPolicyVersion: r.latest_version,
      latestBudgetVersion: r.budget_version,
      loopHeartbeatAt: r.loop_heartbeat_at?.toISOString() ?? null,
      createdAt: r.created_at.toISOString(),
    }));
  }
}
