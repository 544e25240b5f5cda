/**
 * The risk models budgets name by content id (risk/riskModel.ts). Written by the activity that builds a
 * budget, before the budget travels on; read by the gate with the budget that names it.
 */
import type pg from 'pg';
import { type RiskModel, riskModelId } from '../../risk/riskModel';

export class RiskModelStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Stores the model under its content id (idempotent: an existing id is the same body) and returns the id. */
  async put(model: RiskModel): Promise<string> {
    const id = riskModelId(model);
    await this.pool.query(`INSERT INTO risk_models (id, form, asset_count, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [
      id,
      model.form,
      model.assets.length,
      JSON.stringify(model),
    ]);
    return id;
  }

  async get(id: string): Promise<RiskModel | undefined> {
    const r = await this.pool.query<{ body: RiskModel }>(`SELECT body FROM risk_models WHERE id = $1`, [id]);
    return r.rows[0]?.body;
  }
}
