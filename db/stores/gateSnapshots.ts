/**
 * What the gate's snapshots are built from, per portfolio: the latest committed budget, the operator's
 * trading state (portfolio-wide and per strategy / instrument), the loop's heartbeat and the limit overrides in force. Read on start, on every
 * `ballast_budget` / `ballast_control` notification and by the periodic poll.
 */
import type pg from 'pg';
import type { BudgetVersion, OverridableLimit, RiskBudget } from '../../risk/budget';
import { isTradingState, type TradingState } from '../../risk/kinds';
import type { RiskModel } from '../../risk/riskModel';
import type { ActiveOverride } from '../../risk/overrides';
import { currency } from '../../risk/units';
import type { ScopedState } from '../../risk/pretrade/snapshot';
import { restrictedScopes } from './tradingStates';

export interface GateSnapshotRow {
  readonly portfolioId: string;
  readonly tradingState: TradingState;
  /** When the loop last completed a cycle, if ever. */
  readonly loopHeartbeatAtMs: number | undefined;
  /** Undefined for a portfolio with no committed budget yet. */
  readonly latest: BudgetVersion | undefined;
  /** Active overrides, oldest first (a later one of the same scope replaces an earlier one). */
  readonly overrides: readonly ActiveOverride[];
  /** Strategies and instruments an operator set REDUCING or HALTED (absent: none). */
  readonly scopedStates?: readonly ScopedState[];
  /**
   * The risk model the latest budget names (`riskLimits.modelId`), if it has one, the row exists and
   * the caller did not say it holds it already.
   */
  readonly riskModel?: RiskModel;
}

interface LatestRow {
  id: string;
  trading_state: string;
  loop_heartbeat_at: Date | null;
  version: number | null;
  budget: RiskBudget | null;
  committed_at: Date | null;
  risk_model: RiskModel | null;
}

interface OverrideRow {
  portfolio_id: string;
  strategy: string | null;
  asset: string | null;
  field: OverridableLimit;
  value: string | number;
  expires_at: Date;
}

const LATEST_SQL = `
  SELECT p.id, p.trading_state, p.loop_heartbeat_at, b.version, b.budget, b.committed_at,
         CASE WHEN m.id = ANY($2::text[]) THEN NULL ELSE m.body END AS risk_model
  FROM portfolios p
  LEFT JOIN LATERAL (SELECT version, budget, committed_at FROM budget_versions v
                     WHERE v.portfolio_id = p.id ORDER BY version DESC LIMIT 1) b ON true
  LEFT JOIN risk_models m ON m.id = b.budget->'riskLimits'->>'modelId'
  WHERE $1::text IS NULL OR p.id = $1`;

const OVERRIDES_SQL = `
  SELECT portfolio_id, strategy, asset, field, value, expires_at FROM limit_overrides
  WHERE revoked_at IS NULL AND expires_at > now() AND ($1::text IS NULL OR portfolio_id = $1)
  ORDER BY created_at, id`;

export class GateSnapshotsStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Every portfolio (or the one named), with what its snapshot needs. Risk model bodies whose ids are in
   * `loadedModels` are left out (the reader holds them already: a 300-asset body is ~2 MB of JSON, and
   * the poll runs every few seconds).
   */
  async read(portfolioId?: string, loadedModels: ReadonlySet<string> = new Set()): Promise<GateSnapshotRow[]> {
    const [latest, overrides, scoped] = await Promise.all([
      this.pool.query<LatestRow>(LATEST_SQL, [portfolioId ?? null, [...loadedModels]]),
      this.pool.query<OverrideRow>(OVERRIDES_SQL, [portfolioId ?? null]),
      restrictedScopes(this.pool, portfolioId),
    ]);
    const byPortfolio = new Map<string, ActiveOverride[]>();
    for (const r of overrides.rows) {
      const list = byPortfolio.get(r.portfolio_id) ?? [];
      list.push({
        strategy: r.strategy,
        asset: r.asset,
        field: r.field,
        value: currency(Number(r.value)),
        expiresAtMs: r.expires_at.getTime(),
      });
      byPortfolio.set(r.portfolio_id, list);
    }
    return latest.rows.map((r) => ({
      portfolioId: r.id,
      // The column's CHECK allows only the three states; anything else would be a schema drift, read
      // as the safest state.
      tradingState: isTradingState(r.trading_state) ? r.trading_state : 'HALTED',
      loopHeartbeatAtMs: r.loop_heartbeat_at?.getTime(),
      latest:
        r.version === null || r.budget === null || r.committed_at === null
          ? undefined
          : { portfolioId: r.id, version: r.version, committedAt: r.committed_at.toISOString(), budget: r.budget },
      overrides: byPortfolio.get(r.id) ?? [],
      scopedStates: scoped.get(r.id) ?? [],
      riskModel: r.risk_model ?? undefined,
    }));
  }
}
