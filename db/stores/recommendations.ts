/**
 * Recommendations and their statuses. Statuses only move forward (a late retry cannot reopen a
 * decision), and a commit writes the budget version, the COMMITTED status and the rebalancing plan in
 * one transaction.
 */
import type pg from 'pg';
import type { Recommendation } from '../../risk/approval';
import type { BudgetVersion } from '../../risk/budget';
import type { RecommendationStatus } from '../../risk/kinds';
import type { RebalancePlan } from '../../risk/rebalancePlan';
import type { Position } from '../../risk/holdings';
import { type Queryable, inTransaction } from '../pool';
import { commitBudgetIn } from './budgets';
import { emitPlanIn } from './rebalancePlans';

export type CommitOutcome = { readonly version: number; readonly created: boolean } | { readonly refused: string };

/** A row as the console and the gate's GetRecommendations show it. */
export interface StoredRecommendation {
  readonly id: string;
  readonly status: RecommendationStatus;
  readonly reason: string;
  readonly addsRisk: boolean;
  readonly createdAt: Date;
  readonly summary: unknown;
  readonly detail: unknown;
  readonly triggers: unknown;
  readonly committedVersion: number | null;
  /** Who asked for it (null: recorded before requesters were). */
  readonly requestedBy: string | null;
  /** Why it left PENDING without a human decision, e.g. which proposal superseded it. */
  readonly settledReason: string | null;
}

export class RecommendationStore {
  constructor(private readonly pool: pg.Pool) {}

  async record(r: Recommendation, status: RecommendationStatus, committedVersion: number | null, settledReason?: string): Promise<void> {
    await upsertIn(this.pool, r, status, committedVersion, settledReason);
  }

  /**
   * Commits the recommendation's budget (keyed `rec:<id>`), its COMMITTED status and its plan
   * (keyed `<portfolio>:v<version>`). `guard` sees the latest version under the portfolio's lock and
   * may refuse the commit with a reason.
   */
  async commit(
    r: Recommendation,
    guard: (latest: BudgetVersion | undefined) => string | null,
    planFor: (version: number, positions: readonly Position[]) => RebalancePlan,
  ): Promise<CommitOutcome> {
    return inTransaction(this.pool, async (client) => {
      const result = await commitBudgetIn(client, `rec:${r.id}`, r.budget, guard);
      if ('refused' in result) return result;
      const version = result.version.version;
      await upsertIn(client, r, 'COMMITTED', version);
      await emitPlanIn(client, `${r.portfolioId}:v${version}`, r.portfolioId, (positions) => planFor(version, positions));
      return { version, created: result.created };
    });
  }

  /** The portfolio's latest recommendations, newest first. */
  async latest(portfolioId: string, limit: number): Promise<StoredRecommendation[]> {
    const { rows } = await this.pool.query<{
      id: string;
      status: RecommendationStatus;
      reason: string;
      adds_risk: boolean;
      created_at: Date;
      summary: unknown;
      detail: unknown;
      triggers: unknown;
      committed_version: number | null;
      requested_by: string | null;
      settled_reason: string | null;
    }>(
      `SELECT id, status, reason, adds_risk, created_at, summary, detail, triggers, committed_version, requested_by, settled_reason FROM recommendations
       WHERE portfolio_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [portfolioId, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      reason: r.reason,
      addsRisk: r.adds_risk,
      createdAt: r.created_at,
      summary: r.summary,
      detail: r.detail,
      triggers: r.triggers,
      committedVersion: r.committed_version,
      requestedBy: r.requested_by,
      settledReason: r.settled_reason,
    }));
  }

  /** The status of one recommendation, or undefined when it was never recorded. */
  async status(id: string): Promise<RecommendationStatus | undefined> {
    const { rows } = await this.pool.query<{ status: RecommendationStatus }>('SELECT status FROM recommendations WHERE id = $1', [id]);
    return rows[0]?.status;
  }
}

async function upsertIn(
  db: Queryable,
  r: Recommendation,
  status: RecommendationStatus,
  committedVersion: number | null,
  settledReason?: string,
): Promise<void> {
  const decided = status === 'PENDING' ? null : new Date();
  await db.query(
    `INSERT INTO recommendations (id, portfolio_id, status, adds_risk, reason, base_version, committed_version, triggers, summary, budget, created_at, expires_at, decided_at, detail, requested_by, settled_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, committed_version = COALESCE(EXCLUDED.committed_version, recommendations.committed_version),
       decided_at = COALESCE(recommendations.decided_at, EXCLUDED.decided_at), settled_reason = COALESCE(EXCLUDED.settled_reason, recommendations.settled_reason),
       updated_at = now()
     WHERE recommendations.status = 'PENDING' -- statuses only move forward; a late retry cannot reopen a decision`,
    [
      r.id,
      r.portfolioId,
      status,
      r.addsRisk,
      r.reason,
      r.baseVersion,
      committedVersion,
      JSON.stringify(r.triggers),
      JSON.stringify(r.summary),
      JSON.stringify(r.budget),
      new Date(r.createdAtMs),
      r.expiresAtMs === null ? null : new Date(r.expiresAtMs),
      decided,
      r.detail ? JSON.stringify(r.detail) : null,
      r.requestedBy ?? null,
      settledReason ?? null,
    ],
  );
}
