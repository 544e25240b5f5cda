/**
 * The loop's outputs and operator controls, each written once: every row carries an idempotency key
 * (or a natural key) and inserts are `ON CONFLICT DO NOTHING`, so retries and crashes never duplicate.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { BudgetStore, commitBudgetIn } from '../db/budgetStore';
import { inTransaction } from '../db/pool';
import { type RiskBudget, addsRisk } from '../risk/budget';
import type { LimitOverrideRequest, Recommendation, RecommendationStatus, RegimeChange, TradingStateRequest } from '../workflows/types';
import { insertMetric } from './metrics';

export interface OutputDeps {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly alertWebhookUrl?: string;
}

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertInput {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly severity: AlertSeverity;
  readonly kind: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export function outputActivities(deps: OutputDeps) {
  const { pool, logger } = deps;
  const budgets = new BudgetStore(pool);

  return {
    async latestCommitted(portfolioId: string): Promise<{ version: number; budget: RiskBudget } | null> {
      const latest = await budgets.latestBudget(portfolioId);
      return latest ? { version: latest.version, budget: latest.budget } : null;
    },

    async recordRecommendation(input: {
      recommendation: Recommendation;
      status: RecommendationStatus;
      committedVersion: number | null;
    }): Promise<void> {
      await upsertRecommendation(pool, input.recommendation, input.status, input.committedVersion);
    },

    async recordDecision(input: {
      idempotencyKey: string;
      recommendationId: string;
      portfolioId: string;
      decision: 'APPROVED' | 'REJECTED' | 'EXPIRED';
      approver: string;
      reason: string;
      latencyMs: number;
    }): Promise<void> {
      await pool.query(
        `INSERT INTO approval_decisions (idempotency_key, recommendation_id, portfolio_id, decision, approver, reason, latency_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          input.idempotencyKey,
          input.recommendationId,
          input.portfolioId,
          input.decision,
          input.approver,
          input.reason,
          Math.round(input.latencyMs),
        ],
      );
      logger.info(
        { recommendationId: input.recommendationId, decision: input.decision, approver: input.approver },
        'approval decision recorded',
      );
    },

    /** Re-issues the rebalancing plan of a committed version (the book drifted from a budget that still stands). */
    async emitRebalancePlan(input: { idempotencyKey: string; portfolioId: string; version: number; budget: RiskBudget }): Promise<void> {
      await inTransaction(pool, (client) => writePlan(client, input.idempotencyKey, input.portfolioId, input.version, input.budget));
    },

    /**
     * Commits a recommendation in one transaction: the budget version (keyed by recommendation id),
     * the recommendation's COMMITTED status and the rebalancing plan in the outbox. Refused when the
     * budget moved since the recommendation's base version and this budget would add risk to it.
     */
    async commitRecommendation(input: {
      recommendation: Recommendation;
    }): Promise<{ version: number; created: boolean; refused: string | null }> {
      const r = input.recommendation;
      const outcome = await inTransaction(pool, async (client) => {
        const result = await commitBudgetIn(client, `rec:${r.id}`, r.budget, (latest) =>
          latest && latest.version !== r.baseVersion && addsRisk(latest.budget, r.budget)
            ? `the budget moved to version ${latest.version} since this recommendation was based on ${r.baseVersion ?? 'none'}, and it would add risk to it`
            : null,
        );
        if ('refused' in result) return result;
        await upsertRecommendation(client, r, 'COMMITTED', result.version.version);
        await writePlan(client, `${r.portfolioId}:v${result.version.version}`, r.portfolioId, result.version.version, r.budget);
        return result;
      });
      if ('refused' in outcome) return { version: 0, created: false, refused: outcome.refused };
      logger.info(
        { portfolioId: r.portfolioId, version: outcome.version.version, created: outcome.created, regime: r.budget.regime },
        'budget committed',
      );
      if (outcome.created) crashAfterCommitIfInjected();
      return { version: outcome.version.version, created: outcome.created, refused: null };
    },

    /** Alerts go to the table, the structured log and (optionally) a webhook; the row is written once. */
    async raiseAlert(alert: AlertInput): Promise<void> {
      const inserted = await pool.query(
        `INSERT INTO alerts (idempotency_key, portfolio_id, severity, kind, message, details) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [alert.idempotencyKey, alert.portfolioId, alert.severity, alert.kind, alert.message, JSON.stringify(alert.details)],
      );
      const log =
        alert.severity === 'critical'
          ? logger.error.bind(logger)
          : alert.severity === 'warning'
            ? logger.warn.bind(logger)
            : logger.info.bind(logger);
      log({ alert: alert.kind, portfolioId: alert.portfolioId, details: alert.details }, alert.message);
      const { rows } = await pool.query<{ webhook_status: string | null }>('SELECT webhook_status FROM alerts WHERE idempotency_key = $1', [
        alert.idempotencyKey,
      ]);
      if (deps.alertWebhookUrl && (inserted.rowCount === 1 || rows[0]?.webhook_status !== 'delivered')) {
        const status = await postWebhook(deps.alertWebhookUrl, alert);
        await pool.query('UPDATE alerts SET webhook_status = $2 WHERE idempotency_key = $1', [alert.idempotencyKey, status]);
        // Best effort: a dead webhook must not stall the loop; the status column says what happened.
        if (status !== 'delivered') logger.warn({ alert: alert.kind, webhookStatus: status }, 'alert webhook delivery failed');
      }
    },

    async recordRegimeChange(input: { idempotencyKey: string; portfolioId: string; change: RegimeChange }): Promise<void> {
      const c = input.change;
      const responseMs = c.committedAtMs !== undefined ? c.committedAtMs - c.detectedAtMs : null;
      await pool.query(
        `INSERT INTO regime_changes (idempotency_key, portfolio_id, from_regime, to_regime, detected_as_of, detected_at, committed_at, committed_version, response_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          input.idempotencyKey,
          input.portfolioId,
          c.from,
          c.to,
          c.detectedAsOf,
          new Date(c.detectedAtMs),
          c.committedAtMs !== undefined ? new Date(c.committedAtMs) : null,
          c.committedVersion ?? null,
          responseMs,
        ],
      );
      if (responseMs !== null) {
        await insertMetric(
          pool,
          `${input.idempotencyKey}:response`,
          input.portfolioId,
          'regime_response_ms',
          responseMs,
          { to: c.to },
          new Date(c.committedAtMs as number),
        );
      }
    },

    async setTradingState(input: { idempotencyKey: string; portfolioId: string; request: TradingStateRequest }): Promise<void> {
      const { request } = input;
      await inTransaction(pool, async (client) => {
        await client.query(
          `UPDATE portfolios SET trading_state = $2, state_reason = $3, state_changed_by = $4, updated_at = now() WHERE id = $1`,
          [input.portfolioId, request.state, request.reason, request.operator],
        );
        await recordAction(
          client,
          input.idempotencyKey,
          input.portfolioId,
          `trading-state:${request.state}`,
          request.operator,
          request.reason,
          {},
        );
      });
    },

    async createOverride(input: {
      idempotencyKey: string;
      portfolioId: string;
      request: LimitOverrideRequest;
    }): Promise<{ overrideId: number }> {
      const r = input.request;
      await pool.query(
        `INSERT INTO limit_overrides (idempotency_key, portfolio_id, strategy, asset, field, value, reason, approver, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          input.idempotencyKey,
          input.portfolioId,
          r.strategy ?? null,
          r.asset ?? null,
          r.field,
          r.value,
          r.reason,
          r.approver,
          new Date(r.expiresAt),
        ],
      );
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM limit_overrides WHERE idempotency_key = $1', [
        input.idempotencyKey,
      ]);
      await recordAction(pool, input.idempotencyKey, input.portfolioId, 'override', r.approver, r.reason, { ...r });
      await insertMetric(
        pool,
        `${input.idempotencyKey}:override`,
        input.portfolioId,
        'override_created',
        1,
        { field: r.field },
        new Date(),
      );
      return { overrideId: Number(rows[0].id) };
    },

    async recordOperatorAction(input: {
      idempotencyKey: string;
      portfolioId: string;
      action: string;
      operator: string;
      reason: string;
      details: Record<string, unknown>;
    }): Promise<void> {
      await recordAction(pool, input.idempotencyKey, input.portfolioId, input.action, input.operator, input.reason, input.details);
    },
  };
}

async function upsertRecommendation(
  db: pg.Pool | pg.PoolClient,
  r: Recommendation,
  status: RecommendationStatus,
  committedVersion: number | null,
): Promise<void> {
  const decided = status === 'PENDING' ? null : new Date();
  await db.query(
    `INSERT INTO recommendations (id, portfolio_id, status, adds_risk, reason, base_version, committed_version, triggers, summary, budget, created_at, expires_at, decided_at, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, committed_version = COALESCE(EXCLUDED.committed_version, recommendations.committed_version),
       decided_at = COALESCE(recommendations.decided_at, EXCLUDED.decided_at), updated_at = now()
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
    ],
  );
}

/** The plan for the OMS: target notionals and per-asset order deltas against current positions. */
async function writePlan(client: pg.PoolClient, key: string, portfolioId: string, version: number, budget: RiskBudget): Promise<void> {
  const positions = await client.query<{ strategy: string; asset: string; quantity: number }>(
    'SELECT strategy, asset, quantity FROM positions WHERE portfolio_id = $1',
    [portfolioId],
  );
  const held = new Map(positions.rows.map((p) => [`${p.strategy}\u0000${p.asset}`, p.quantity]));
  const orders = budget.assets.map((a) => {
    const currentQuantity = held.get(`${a.strategy}\u0000${a.asset}`) ?? 0;
    const targetQuantity = a.referencePrice > 0 ? a.targetNotional / a.referencePrice : 0;
    return {
      strategy: a.strategy,
      asset: a.asset,
      referencePrice: a.referencePrice,
      currentQuantity,
      targetQuantity,
      deltaQuantity: targetQuantity - currentQuantity,
      targetNotional: a.targetNotional,
    };
  });
  const plan = {
    budgetVersion: version,
    regime: budget.regime,
    cashWeight: budget.limits.cashWeight,
    grossLeverage: budget.limits.grossLeverage,
    orders,
  };
  await client.query(
    'INSERT INTO rebalance_outbox (idempotency_key, portfolio_id, budget_version, plan) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING',
    [key, portfolioId, version, JSON.stringify(plan)],
  );
}

/**
 * Fault injection for the crash tests: BALLAST_FAULT_CRASH_AFTER_COMMITS=N kills this process right
 * after its N-th new commit, before Temporal learns the activity completed — the worst moment.
 */
let commitsSinceStart = 0;
function crashAfterCommitIfInjected(): void {
  const limit = Number(process.env.BALLAST_FAULT_CRASH_AFTER_COMMITS ?? 0);
  if (limit > 0 && ++commitsSinceStart >= limit) process.kill(process.pid, 'SIGKILL');
}

async function recordAction(
  pool: pg.Pool | pg.PoolClient,
  key: string,
  portfolioId: string,
  action: string,
  operator: string,
  reason: string,
  details: Record<string, unknown>,
): Promise<void> {
  await pool.query(
    `INSERT INTO operator_actions (idempotency_key, portfolio_id, action, operator, reason, details) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [key, portfolioId, action, operator, reason, JSON.stringify(details)],
  );
}

async function postWebhook(url: string, alert: AlertInput): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(5_000),
    });
    return res.ok ? 'delivered' : `http ${res.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}
