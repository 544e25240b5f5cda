/**
 * The capacity bench's reads (db/stores/cycleStats.ts): cycles counted by their metrics point, the
 * gaps between a loop's consecutive cycles (the first cycle in a window measured from the one before
 * it), and Postgres's own counters.
 */
import type pg from 'pg';
import { CycleStatsStore } from '../../../db/stores/cycleStats';
import { MetricsStore } from '../../../db/stores/metrics';
import { PortfolioStore } from '../../../db/stores/portfolios';
import { testPool, uniqueId } from '../../support/env';

describe('cycle stats', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = testPool();
  });
  afterAll(() => pool.end());

  it('counts cycles and the gaps between them, per loop, in a window', async () => {
    const prefix = `${uniqueId('cyc')}-`;
    const portfolios = new PortfolioStore(pool);
    const metrics = new MetricsStore(pool);
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const cycle = async (portfolioId: string, atMs: number) =>
      metrics.record([
        {
          idempotencyKey: `${portfolioId}:${atMs}`,
          portfolioId,
          name: 'index_realized_vol',
          value: 0.1,
          labels: {},
          observedAt: new Date(atMs),
        },
      ]);
    for (const id of ['a', 'b']) await portfolios.ensure(`${prefix}${id}`);
    // Loop a: cycles at 0, 10.2 s, 20.5 s; loop b: at 5 s and 15.1 s.
    for (const at of [0, 10_200, 20_500]) await cycle(`${prefix}a`, t0 + at);
    for (const at of [5_000, 15_100]) await cycle(`${prefix}b`, t0 + at);

    const stats = new CycleStatsStore(pool);
    expect(await stats.loopsWithACycle(prefix)).toBe(2);
    const from = new Date(t0 + 8_000);
    const to = new Date(t0 + 30_000);
    expect(await stats.cyclesBetween(prefix, from, to)).toBe(3);
    const gaps = (await stats.cycleGapsMs(prefix, from, to)).sort((x, y) => x - y);
    expect(gaps.map((g) => Math.round(g))).toEqual([10_100, 10_200, 10_300]);
  });

  it("reads Postgres's transaction counter of a database", async () => {
    const stats = new CycleStatsStore(pool);
    const { rows } = await pool.query<{ db: string }>('SELECT current_database() AS db');
    const activity = await stats.databaseActivity([rows[0].db, 'no_such_database']);
    expect(Object.keys(activity)).toEqual([rows[0].db]);
    expect(activity[rows[0].db].xactCommit).toBeGreaterThan(0);
  });
});
