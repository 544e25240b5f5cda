/**
 * The rebalancing outbox: plans for the OMS, written once per idempotency key. A plan is computed from
 * the positions read in the same transaction, so it trades from the book as it stood at the commit.
 */
import type pg from 'pg';
import type { Position } from '../../risk/holdings';
import type { RebalancePlan } from '../../risk/rebalancePlan';
import { type Queryable, inTransaction } from '../pool';
import { positionsIn } from './positions';

/** Turns the positions of the moment into the plan (pure: risk/rebalancePlan.ts). */
export type PlanFor = (positions: readonly Position[]) => RebalancePlan;

export class RebalancePlanStore {
  constructor(private readonly pool: pg.Pool) {}

  async emit(idempotencyKey: string, portfolioId: string, planFor: PlanFor): Promise<void> {
    await inTransaction(this.pool, (client) => emitPlanIn(client, idempotencyKey, portfolioId, planFor));
  }
}

export async function emitPlanIn(db: Queryable, idempotencyKey: string, portfolioId: string, planFor: PlanFor): Promise<void> {
  const plan = planFor(await positionsIn(db, portfolioId));
  await db.query(
    `INSERT INTO rebalance_outbox (idempotency_key, portfolio_id, budget_version, plan) VALUES ($1, $2, $3, $4)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [idempotencyKey, portfolioId, plan.budgetVersion, JSON.stringify(plan)],
  );
}
