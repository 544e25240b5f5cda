/**
 * What the capacity benchmark (bench/capacity.bench.ts) reads about loop cycles and Postgres load.
 * A cycle is counted by its `index_realized_vol` metrics point: recordMetrics writes one every cycle
 * (activities/writes.ts), stamped when it is written. Portfolios are selected by an id prefix.
 */
import type pg from 'pg';

/** The metric every cycle records, whatever the book holds. */
const CYCLE_METRIC = 'index_realized_vol';

export interface DatabaseActivity {
  /** Transactions committed since the statistics were reset. */
  readonly xactCommit: number;
  /** Rows inserted, updated and deleted. */
  readonly rowsWritten: number;
}

export class CycleStatsStore {
  constructor(private readonly pool: pg.Pool) {}

  /** How many of the prefix's portfolios have completed at least one cycle. */
  async loopsWithACycle(prefix: string): Promise<number> {
    const { rows } = await this.pool.query<{ loops: number }>(
      'SELECT count(DISTINCT portfolio_id)::int AS loops FROM metrics WHERE name = $1 AND portfolio_id LIKE $2',
      [CYCLE_METRIC, `${prefix}%`],
    );
    return rows[0].loops;
  }

  /** Cycles of the prefix's portfolios that committed their metrics in [from, to). */
  async cyclesBetween(prefix: string, from: Date, to: Date): Promise<number> {
    const { rows } = await this.pool.query<{ c: number }>(
      'SELECT count(*)::int AS c FROM metrics WHERE name = $1 AND portfolio_id LIKE $2 AND observed_at >= $3 AND observed_at < $4',
      [CYCLE_METRIC, `${prefix}%`, from, to],
    );
    return rows[0].c;
  }

  /**
   * Milliseconds between each cycle ending in [from, to) and the same loop's previous cycle (which
   * may end before `from`).
   */
  async cycleGapsMs(prefix: string, from: Date, to: Date): Promise<number[]> {
    const { rows } = await this.pool.query<{ gap: number }>(
      `SELECT gap FROM (
         SELECT extract(epoch FROM observed_at - lag(observed_at) OVER (PARTITION BY portfolio_id ORDER BY observed_at))::float8 * 1000 AS gap,
                observed_at
           FROM metrics WHERE name = $1 AND portfolio_id LIKE $2) g
        WHERE gap IS NOT NULL AND observed_at >= $3 AND observed_at < $4`,
      [CYCLE_METRIC, `${prefix}%`, from, to],
    );
    return rows.map((r) => Number(r.gap));
  }

  /** Postgres's own counters for the named databases (pg_stat_database), by name. */
  async databaseActivity(databases: readonly string[]): Promise<Record<string, DatabaseActivity>> {
    const { rows } = await this.pool.query<{ datname: string; xact: string; written: string }>(
      `SELECT datname, xact_commit AS xact, tup_inserted + tup_updated + tup_deleted AS written
         FROM pg_stat_database WHERE datname = ANY($1)`,
      [databases],
    );
    return Object.fromEntries(rows.map((r) => [r.datname, { xactCommit: Number(r.xact), rowsWritten: Number(r.written) }]));
  }
}
