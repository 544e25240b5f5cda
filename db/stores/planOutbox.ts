/**
 * The rebalancing outbox read as a stream (the gate's WatchRebalancePlans / AckRebalancePlan): plans of
 * a portfolio after a cursor in commit order, their delivery, acknowledgement, supersession and expiry.
 * Sequences, supersession and the NOTIFY are the migration's triggers (1765300000100_plan_stream.sql),
 * so every writer of the outbox gets them.
 */
import type pg from 'pg';
import type { PlannedOrder } from '../../risk/rebalancePlan';
import { inTransaction } from '../pool';

export const PLAN_STATES = ['OPEN', 'SUPERSEDED', 'EXPIRED', 'ACKNOWLEDGED'] as const;
export type PlanState = (typeof PLAN_STATES)[number];

export const ACK_OUTCOMES = ['ACCEPTED', 'EXECUTED', 'PARTIALLY_EXECUTED', 'DECLINED'] as const;
export type AckOutcome = (typeof ACK_OUTCOMES)[number];

export interface StreamedPlan {
  readonly planId: string;
  readonly portfolioId: string;
  readonly sequence: number;
  readonly budgetVersion: number;
  readonly supersedesVersion: number | null;
  readonly supersedesPlanId: string | null;
  readonly state: PlanState;
  readonly supersededBy: string | null;
  readonly ackOutcome: AckOutcome | null;
  readonly committedAt: Date;
  readonly expiresAt: Date;
  readonly regime: string;
  readonly grossLeverage: number;
  readonly cashWeight: number;
  readonly orders: readonly PlannedOrder[];
}

/** Why an acknowledgement was refused, or the plan as it now stands. */
export type AckResult =
  | { readonly ok: true; readonly plan: StreamedPlan }
  | { readonly ok: false; readonly reason: 'not-found' | 'superseded' | 'expired' | 'conflict'; readonly message: string };

interface OutboxRow {
  plan_id: string;
  portfolio_id: string;
  sequence: number;
  budget_version: number;
  supersedes_version: number | null;
  supersedes_plan_id: string | null;
  superseded_by: string | null;
  superseded_at: Date | null;
  expired_at: Date | null;
  acknowledged_at: Date | null;
  ack_outcome: AckOutcome | null;
  created_at: Date;
  expires_at: Date;
  plan: { regime: string; grossLeverage: number; cashWeight: number; orders: PlannedOrder[] };
}

const COLUMNS = `plan_id, portfolio_id, sequence, budget_version, supersedes_version, supersedes_plan_id, superseded_by,
  superseded_at, expired_at, acknowledged_at, ack_outcome, created_at, expires_at, plan`;

function planOf(r: OutboxRow): StreamedPlan {
  const state: PlanState = r.acknowledged_at ? 'ACKNOWLEDGED' : r.superseded_at ? 'SUPERSEDED' : r.expired_at ? 'EXPIRED' : 'OPEN';
  return {
    planId: r.plan_id,
    portfolioId: r.portfolio_id,
    sequence: r.sequence,
    budgetVersion: r.budget_version,
    supersedesVersion: r.supersedes_version,
    supersedesPlanId: r.supersedes_plan_id,
    state,
    supersededBy: r.superseded_by,
    ackOutcome: r.ack_outcome,
    committedAt: r.created_at,
    expiresAt: r.expires_at,
    regime: r.plan.regime,
    grossLeverage: r.plan.grossLeverage,
    cashWeight: r.plan.cashWeight,
    orders: r.plan.orders,
  };
}

/** Marks open plans past their expiry EXPIRED (lazily, whenever plans are read or acknowledged). */
const EXPIRE = `UPDATE rebalance_outbox SET expired_at = now()
  WHERE portfolio_id = $1 AND expires_at < now() AND acknowledged_at IS NULL AND superseded_at IS NULL AND expired_at IS NULL`;

export class PlanOutboxStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Up to `limit` plans of the portfolio with sequence > `afterSequence`, in order. */
  async after(portfolioId: string, afterSequence: number, limit: number): Promise<StreamedPlan[]> {
    await this.pool.query(EXPIRE, [portfolioId]);
    const { rows } = await this.pool.query<OutboxRow>(
      `SELECT ${COLUMNS} FROM rebalance_outbox WHERE portfolio_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3`,
      [portfolioId, afterSequence, limit],
    );
    return rows.map(planOf);
  }

  /** The highest sequence committed for the portfolio (0 = none). */
  async latestSequence(portfolioId: string): Promise<number> {
    const { rows } = await this.pool.query<{ s: number | null }>(
      'SELECT MAX(sequence) AS s FROM rebalance_outbox WHERE portfolio_id = $1',
      [portfolioId],
    );
    return rows[0]?.s ?? 0;
  }

  /** Records the first delivery of each plan. */
  async markDelivered(planIds: readonly string[]): Promise<void> {
    if (planIds.length === 0) return;
    await this.pool.query(
      'UPDATE rebalance_outbox SET delivered_at = now(), dispatched_at = COALESCE(dispatched_at, now()) WHERE plan_id = ANY($1) AND delivered_at IS NULL',
      [planIds],
    );
  }

  /** The portfolio a plan belongs to (for access control before acknowledging), if the plan exists. */
  async portfolioOf(planId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ portfolio_id: string }>('SELECT portfolio_id FROM rebalance_outbox WHERE plan_id = $1', [
      planId,
    ]);
    return rows[0]?.portfolio_id;
  }

  /**
   * Acknowledges a plan. ACCEPTED is refused for a superseded or expired plan (the row lock makes it
   * atomic with a new plan's supersession: one of them wins). The first acknowledgement's time stays;
   * a later outcome (EXECUTED after ACCEPTED) replaces the outcome. Repeating an outcome is a no-op.
   */
  async acknowledge(planId: string, outcome: AckOutcome, by: string): Promise<AckResult> {
    return inTransaction(this.pool, async (client) => {
      const found = await client.query<{ portfolio_id: string }>('SELECT portfolio_id FROM rebalance_outbox WHERE plan_id = $1', [planId]);
      if (!found.rows[0]) return { ok: false, reason: 'not-found', message: `no plan "${planId}"` };
      // The portfolio lock is the one new plans take: no plan can be written between this check and the ack.
      await client.query('SELECT 1 FROM portfolios WHERE id = $1 FOR UPDATE', [found.rows[0].portfolio_id]);
      await client.query(EXPIRE, [found.rows[0].portfolio_id]);
      const { rows } = await client.query<OutboxRow>(`SELECT ${COLUMNS} FROM rebalance_outbox WHERE plan_id = $1`, [planId]);
      const plan = planOf(rows[0]);
      if (plan.state === 'SUPERSEDED')
        return { ok: false, reason: 'superseded', message: `plan ${planId} was superseded by ${plan.supersededBy}: do not execute it` };
      if (plan.state === 'EXPIRED')
        return { ok: false, reason: 'expired', message: `plan ${planId} expired at ${plan.expiresAt.toISOString()}: do not execute it` };
      if (plan.state === 'ACKNOWLEDGED' && plan.ackOutcome !== 'ACCEPTED' && plan.ackOutcome !== outcome)
        return { ok: false, reason: 'conflict', message: `plan ${planId} was already acknowledged ${plan.ackOutcome}` };
      const updated = await client.query<OutboxRow>(
        `UPDATE rebalance_outbox SET acknowledged_at = COALESCE(acknowledged_at, now()), ack_outcome = $2,
           acknowledged_by = COALESCE(acknowledged_by, $3), delivered_at = COALESCE(delivered_at, now())
         WHERE plan_id = $1 RETURNING ${COLUMNS}`,
        [planId, outcome === 'ACCEPTED' && plan.ackOutcome ? plan.ackOutcome : outcome, by],
      );
      return { ok: true, plan: planOf(updated.rows[0]) };
    });
  }
}
