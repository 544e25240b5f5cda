/**
 * Trading states per scope: the portfolio's in `portfolios`, a strategy's or an instrument's in
 * `scoped_trading_states`, each with who set it, why and when; every change also in `operator_actions`.
 */
import type pg from 'pg';
import type { TradingStateRequest } from '../../risk/budget';
import { isTradingScopeKind, isTradingState, type TradingScope, type TradingState } from '../../risk/kinds';
import type { ScopedState } from '../../risk/pretrade/snapshot';
import { inTransaction, type Queryable } from '../pool';
import { recordOperatorActionIn } from './operatorActions';

/** A scope's state as the console shows it. */
export interface ScopeState {
  readonly scope: TradingScope;
  readonly state: TradingState;
  readonly reason: string | null;
  readonly changedBy: string | null;
  readonly changedAt: string;
}

interface ScopeRow {
  scope_kind: string;
  scope_name: string;
  state: string;
  reason: string | null;
  changed_by: string | null;
  changed_at: Date;
}

const SCOPES_SQL = `
  SELECT * FROM (
    SELECT 'portfolio' AS scope_kind, '' AS scope_name, trading_state AS state, state_reason AS reason,
           state_changed_by AS changed_by, updated_at AS changed_at
    FROM portfolios WHERE id = $1
    UNION ALL
    SELECT scope_kind, scope_name, state, reason, changed_by, changed_at FROM scoped_trading_states WHERE portfolio_id = $1
  ) s
  ORDER BY array_position(ARRAY['portfolio', 'strategy', 'instrument'], scope_kind), scope_name`;

export class TradingStateStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Sets the state of the request's scope and records the operator action, in one transaction. */
  async set(portfolioId: string, request: TradingStateRequest, idempotencyKey: string): Promise<void> {
    await inTransaction(this.pool, (client) => setTradingStateIn(client, portfolioId, request, idempotencyKey));
  }

  list(portfolioId: string): Promise<ScopeState[]> {
    return listTradingStates(this.pool, portfolioId);
  }
}

/** The portfolio's scope first, then every strategy and instrument ever set (ACTIVE ones included: who resumed them). */
export async function listTradingStates(db: Queryable, portfolioId: string): Promise<ScopeState[]> {
  const { rows } = await db.query<ScopeRow>(SCOPES_SQL, [portfolioId]);
  return rows.map((r) => ({
    scope: { kind: isTradingScopeKind(r.scope_kind) ? r.scope_kind : 'portfolio', name: r.scope_name },
    state: isTradingState(r.state) ? r.state : 'HALTED',
    reason: r.reason,
    changedBy: r.changed_by,
    changedAt: r.changed_at.toISOString(),
  }));
}

/** Scoped states not ACTIVE, per portfolio (all portfolios, or the one named): what the gate's snapshots need. */
export async function restrictedScopes(db: Queryable, portfolioId?: string): Promise<Map<string, ScopedState[]>> {
  const { rows } = await db.query<{ portfolio_id: string; scope_kind: string; scope_name: string; state: string }>(
    `SELECT portfolio_id, scope_kind, scope_name, state FROM scoped_trading_states
     WHERE state <> 'ACTIVE' AND ($1::text IS NULL OR portfolio_id = $1)`,
    [portfolioId ?? null],
  );
  const byPortfolio = new Map<string, ScopedState[]>();
  for (const r of rows) {
    if (r.scope_kind !== 'strategy' && r.scope_kind !== 'instrument') continue;
    const list = byPortfolio.get(r.portfolio_id) ?? [];
    // The column's CHECK allows only the three states; anything else would be schema drift, read as the safest.
    list.push({ kind: r.scope_kind, name: r.scope_name, state: isTradingState(r.state) ? r.state : 'HALTED' });
    byPortfolio.set(r.portfolio_id, list);
  }
  return byPortfolio;
}

async function setTradingStateIn(client: pg.PoolClient, portfolioId: string, request: TradingStateRequest, idempotencyKey: string) {
  const scope = request.scope ?? { kind: 'portfolio', name: '' };
  if (scope.kind === 'portfolio') {
    await client.query(
      'UPDATE portfolios SET trading_state = $2, state_reason = $3, state_changed_by = $4, updated_at = now() WHERE id = $1',
      [portfolioId, request.state, request.reason, request.operator],
    );
  } else {
    await client.query(
      `INSERT INTO scoped_trading_states (portfolio_id, scope_kind, scope_name, state, reason, changed_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (portfolio_id, scope_kind, scope_name)
       DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, changed_by = EXCLUDED.changed_by, changed_at = now()`,
      [portfolioId, scope.kind, scope.name, request.state, request.reason, request.operator],
    );
  }
  await recordOperatorActionIn(client, {
    idempotencyKey,
    portfolioId,
    action: `trading-state:${request.state}`,
    operator: request.operator,
    reason: request.reason,
    details: scope.kind === 'portfolio' ? {} : { scope: scope.kind, name: scope.name },
  });
}
