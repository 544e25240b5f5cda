/**
 * Budget versions in Postgres. Commits are idempotent by key: a retried activity, a worker crash
 * between commit and acknowledgement, or a replayed workflow never produce a second version.
 * NOTIFY is raised by a trigger on insert (see the base migration).
 */
import type pg from 'pg';
import type { BudgetVersion, RiskBudget } from '../../risk/budget';
import { inTransaction } from '../pool';
import { PortfolioStore } from './portfolios';

export interface CommitResult {
  readonly version: BudgetVersion;
  /** False when the key had already been committed (the earlier version is returned). */
  readonly created: boolean;
}

interface BudgetRow {
  portfolio_id: string;
  version: number;
  budget: RiskBudget;
  committed_at: Date;
}

const toVersion = (row: BudgetRow): BudgetVersion => ({
  portfolioId: row.portfolio_id,
  version: row.version,
  committedAt: row.committed_at.toISOString(),
  budget: row.budget,
});

/** A key seen before with a different budget: a bug upstream, never something to paper over. */
export class IdempotencyConflict extends Error {
  override readonly name = 'IdempotencyConflict';
}

/**
 * Commits inside the caller's transaction. `guard` sees the latest committed version (under the
 * portfolio's row lock) and may refuse the commit with a reason.
 */
export async function commitBudgetIn(
  client: pg.PoolClient,
  idempotencyKey: string,
  budget: RiskBudget,
  guard?: (latest: BudgetVersion | undefined) => string | null,
): Promise<CommitResult | { refused: string }> {
  const existing = await client.query<BudgetRow & { same: boolean }>(
    'SELECT portfolio_id, version, budget, committed_at, budget = $2::jsonb AS same FROM budget_versions WHERE idempotency_key = $1',
    [idempotencyKey, JSON.stringify(budget)],
  );
  if (existing.rows[0]) {
    if (!existing.rows[0].same)
      throw new IdempotencyConflict(
        `idempotency key ${idempotencyKey} was already used for a different budget (version ${existing.rows[0].version})`,
      );
    return { version: toVersion(existing.rows[0]), created: false };
  }
  // Serialize version assignment per portfolio on the portfolio row.
  const locked = await client.query('SELECT 1 FROM portfolios WHERE id = $1 FOR UPDATE', [budget.portfolioId]);
  if (locked.rowCount === 0) throw new Error(`unknown portfolio "${budget.portfolioId}"`);
  if (guard) {
    const latest = await client.query<BudgetRow>(
      'SELECT portfolio_id, version, budget, committed_at FROM budget_versions WHERE portfolio_id = $1 ORDER BY version DESC LIMIT 1',
      [budget.portfolioId],
    );
    const refused = guard(latest.rows[0] ? toVersion(latest.rows[0]) : undefined);
    if (refused) return { refused };
  }
  const inserted = await client.query<BudgetRow>(
    `INSERT INTO budget_versions (portfolio_id, version, idempotency_key, regime, as_of, budget)
     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM budget_versions WHERE portfolio_id = $1
     RETURNING portfolio_id, version, budget, committed_at`,
    [budget.portfolioId, idempotencyKey, budget.regime, budget.asOf, JSON.stringify(budget)],
  );
  return { version: toVersion(inserted.rows[0]), created: true };
}

export class BudgetStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Registers the portfolio a budget is committed for (the portfolios store owns the row). */
  async ensurePortfolio(portfolioId: string, baseCurrency = 'USD'): Promise<void> {
    await new PortfolioStore(this.pool).ensure(portfolioId, baseCurrency);
  }

  async commitBudget(idempotencyKey: string, budget: RiskBudget): Promise<CommitResult> {
    const result = await inTransaction(this.pool, (client) => commitBudgetIn(client, idempotencyKey, budget));
    if ('refused' in result) throw new Error(result.refused); // unreachable without a guard
    return result;
  }

  async latestBudget(portfolioId: string): Promise<BudgetVersion | undefined> {
    const res = await this.pool.query<BudgetRow>(
      `SELECT portfolio_id, version, budget, committed_at FROM budget_versions
       WHERE portfolio_id = $1 ORDER BY version DESC LIMIT 1`,
      [portfolioId],
    );
    return res.rows[0] ? toVersion(res.rows[0]) : undefined;
  }

  /** The latest committed version's number, without its budget (null: none yet). */
  async latestVersion(portfolioId: string): Promise<number | null> {
    const res = await this.pool.query<{ v: number | null }>('SELECT MAX(version) AS v FROM budget_versions WHERE portfolio_id = $1', [
      portfolioId,
    ]);
    return res.rows[0]?.v ?? null;
  }

  /** One committed version (versions are immutable, so a reader may cache it). */
  async budgetVersion(portfolioId: string, version: number): Promise<BudgetVersion | undefined> {
    const res = await this.pool.query<BudgetRow>(
      'SELECT portfolio_id, version, budget, committed_at FROM budget_versions WHERE portfolio_id = $1 AND version = $2',
      [portfolioId, version],
    );
    return res.rows[0] ? toVersion(res.rows[0]) : undefined;
  }

  async latestBudgets(): Promise<BudgetVersion[]> {
    const res = await this.pool.query<BudgetRow>(
      `SELECT DISTINCT ON (portfolio_id) portfolio_id, version, budget, committed_at
       FROM budget_versions ORDER BY portfolio_id, version DESC`,
    );
    return res.rows.map(toVersion);
  }

  async countVersions(portfolioId: string): Promise<number> {
    const res = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM budget_versions WHERE portfolio_id = $1', [portfolioId]);
    return Number(res.rows[0].n);
  }
}
