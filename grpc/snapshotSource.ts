/**
 * Keeps the gate's snapshots current from Postgres: a full load at start and after every listener
 * (re)connect (notifications sent while disconnected are lost), a per-portfolio reload on each
 * `ballast_budget` / `ballast_control` notification, and a periodic full poll as a safety net.
 * All of this runs off the request path; requests only read the swapped-in snapshot.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BudgetVersion, RiskBudget } from '../risk/budget';
import { currency } from '../risk/units';
import { listen, type Subscription } from '../db/notifications';
import type { GateCore } from './gate';
import { buildSnapshot, type LimitOverride, type OverrideField, type TradingState } from './snapshot';

interface Row {
  id: string;
  trading_state: TradingState;
  version: number | null;
  budget: RiskBudget | null;
  committed_at: Date | null;
  loop_heartbeat_at: Date | null;
}

const LATEST_SQL = `
  SELECT p.id, p.trading_state, p.loop_heartbeat_at, b.version, b.budget, b.committed_at
  FROM portfolios p
  LEFT JOIN LATERAL (SELECT version, budget, committed_at FROM budget_versions v
                     WHERE v.portfolio_id = p.id ORDER BY version DESC LIMIT 1) b ON true
  WHERE $1::text IS NULL OR p.id = $1`;

const OVERRIDES_SQL = `
  SELECT portfolio_id, strategy, asset, field, value, expires_at FROM limit_overrides
  WHERE revoked_at IS NULL AND expires_at > now() AND ($1::text IS NULL OR portfolio_id = $1)
  ORDER BY created_at, id`;

export interface SnapshotSourceOptions {
  readonly pool: pg.Pool;
  readonly databaseUrl: string;
  readonly core: GateCore;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Called after each successful full load (readiness). */
  onLoaded?(): void;
}

export class SnapshotSource {
  private subscription: Subscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private loadedOnce = false;
  /** Reloads are numbered; a slower, older read never overwrites what a newer one installed. */
  private reloadSeq = 0;
  private readonly installedBy = new Map<string, number>();

  constructor(private readonly options: SnapshotSourceOptions) {}

  get ready(): boolean {
    return this.loadedOnce;
  }

  async start(): Promise<void> {
    this.subscription = await listen({
      databaseUrl: this.options.databaseUrl,
      channels: ['ballast_budget', 'ballast_control'],
      logger: this.options.logger,
      onConnected: () => this.reload(undefined),
      onNotification: (_channel, payload) => {
        const portfolioId = parsePortfolioId(payload);
        void this.reload(portfolioId);
      },
    });
    this.pollTimer = setInterval(() => void this.reload(undefined), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  async close(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.subscription?.close();
  }

  /** Reload one portfolio (or all when undefined). Errors are logged; the old snapshot stays. */
  async reload(portfolioId: string | undefined): Promise<void> {
    const seq = ++this.reloadSeq;
    try {
      const [latest, overrides] = await Promise.all([
        this.options.pool.query<Row>(LATEST_SQL, [portfolioId ?? null]),
        this.options.pool.query(OVERRIDES_SQL, [portfolioId ?? null]),
      ]);
      const byPortfolio = groupOverrides(overrides.rows);
      const core = this.options.core;
      if (portfolioId === undefined) core.setKnownPortfolios(new Set(latest.rows.map((r) => r.id)));
      for (const row of latest.rows) {
        if (row.version === null || row.budget === null || row.committed_at === null) continue;
        if ((this.installedBy.get(row.id) ?? 0) > seq) continue;
        this.installedBy.set(row.id, seq);
        const stored: BudgetVersion = {
          portfolioId: row.id,
          version: row.version,
          committedAt: row.committed_at.toISOString(),
          budget: row.budget,
        };
        if (core.install(buildSnapshot(stored, row.trading_state, byPortfolio.get(row.id) ?? [], row.loop_heartbeat_at?.getTime()))) {
          this.options.logger.debug({ portfolioId: row.id, version: row.version }, 'budget snapshot installed');
        }
      }
      if (portfolioId === undefined && !this.loadedOnce) {
        this.loadedOnce = true;
        this.options.onLoaded?.();
      }
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message, portfolioId }, 'snapshot reload failed; keeping the current one');
    }
  }
}

function parsePortfolioId(payload: string): string | undefined {
  try {
    const id = (JSON.parse(payload) as { portfolioId?: unknown }).portfolioId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function groupOverrides(rows: Array<Record<string, unknown>>): Map<string, LimitOverride[]> {
  const out = new Map<string, LimitOverride[]>();
  for (const r of rows) {
    const id = r.portfolio_id as string;
    const list = out.get(id) ?? [];
    list.push({
      strategy: (r.strategy as string | null) ?? null,
      asset: (r.asset as string | null) ?? null,
      field: r.field as OverrideField,
      value: currency(Number(r.value)),
      expiresAtMs: (r.expires_at as Date).getTime(),
    });
    out.set(id, list);
  }
  return out;
}
