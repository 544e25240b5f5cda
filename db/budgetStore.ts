/**
 * Budget versions in Postgres. Commits are idempotent by key: a retried activity, a worker crash
 * between commit and acknowledgement, or a replayed workflow never produce a second version.
 * NOTIFY is raised by a trigger on insert (see the base migration).
 */
import type pg from 'pg';
import type { BudgetVersion, RiskBudget } from '../risk/budget';
import { inTransaction } from './pool';

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

export class BudgetStore {
  constructor(private readonly pool: pg.Pool) {}

  async ensurePortfolio(portfolioId: string, baseCurrency = 'USD'): Promise<void> {
    await this.pool.query(
      'INSERT INTO portfolios (id, base_currency) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
      [portfolioId, baseCurrency],
    );
  }

  async commitBudget(idempotencyKey: string, budget: RiskBudget): Promise<CommitResult> {
    return inTransaction(this.pool, async (client) => {
      const existing = await client.query<BudgetRow>(
        'SELECT portfolio_id, version, budget, committed_at FROM budget_versions WHERE idempotency_key = $1',
        [idempotencyKey],
      );
      if (existing.rows[0]) return { version: toVersion(existing.rows[0]), created: false };
      // Serialize version assignment per portfolio on the portfolio row.
      const locked = await client.query('SELECT 1 FROM portfolios WHERE id = $1 FOR UPDATE', [budget.portfolioId]);
      if (locked.rowCount === 0) throw new Error(`unknown portfolio "${budget.portfolioId}"`);
      const inserted = await client.query<BudgetRow>(
        `INSERT INTO budget_versions (portfolio_id, version, idempotency_key, regime, as_of, budget)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM budget_versions WHERE portfolio_id = $1
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING portfolio_id, version, budget, committed_at`,
        [budget.portfolioId, idempotencyKey, budget.regime, budget.asOf, JSON.stringify(budget)],
      );
      if (inserted.rows[0]) return { version: toVersion(inserted.rows[0]), created: true };
      // A concurrent commit with the same key won the race; return its version.
      const raced = await client.query<BudgetRow>(
        'SELECT portfolio_id, version, budget, committed_at FROM budget_versions WHERE idempotency_key = $1',
        [idempotencyKey],
      );
      return { version: toVersion(raced.rows[0]), created: false };
    });
  }

  async latestBudget(portfolioId: string): Promise<BudgetVersion | undefined> {
    const res = await this.pool.query<BudgetRow>(
      `SELECT portfolio_id, version, budget, committed_at FROM budget_versions
       WHERE portfolio_id = $1 ORDER BY version DESC LIMIT 1`,
      [portfolioId],
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
