/**
 * A cycle's success metrics (db/stores/metrics.ts `record`): written together or not at all, once per
 * idempotency key, labels and values as given, non-finite values left out.
 */
import type pg from 'pg';
import { type MetricPoint, MetricsStore, recordMetricIn } from '../../../db/stores/metrics';
import { inTransaction } from '../../../db/pool';
import { PortfolioStore } from '../../../db/stores/portfolios';
import { testPool, uniqueId } from '../../support/env';

let pool: pg.Pool;
beforeAll(() => {
  pool = testPool();
});
afterAll(() => pool.end());

const stored = async (portfolioId: string) =>
  (
    await pool.query<{ name: string; value: number; labels: Record<string, string> }>(
      'SELECT name, value, labels FROM metrics WHERE portfolio_id = $1 ORDER BY name, value',
      [portfolioId],
    )
  ).rows;

const cycle = (portfolioId: string, key: string): MetricPoint[] => {
  const at = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
  const point = (name: MetricPoint['name'], value: number, labels: Record<string, string> = {}): MetricPoint => ({
    idempotencyKey: `${key}:${name}:${JSON.stringify(labels)}`,
    portfolioId,
    name,
    value,
    labels,
    observedAt: at,
  });
  return [
    point('risk_utilization', 0.5, { scope: 'total' }),
    point('risk_utilization', 0.25, { scope: 'strategy', strategy: 'core "x" \\ {y}' }),
    point('book_realized_vol', 0.12),
    point('return_per_risk', Number.NaN),
    point('index_realized_vol', 0.2),
  ];
};

test("a cycle's points are written once, as given, without the non-finite ones", async () => {
  const portfolioId = uniqueId('metrics');
  await new PortfolioStore(pool).ensure(portfolioId);
  const store = new MetricsStore(pool);
  await store.record(cycle(portfolioId, 'c1'));
  await store.record(cycle(portfolioId, 'c1'));
  expect(await stored(portfolioId)).toEqual([
    { name: 'book_realized_vol', value: 0.12, labels: {} },
    { name: 'index_realized_vol', value: 0.2, labels: {} },
    { name: 'risk_utilization', value: 0.25, labels: { scope: 'strategy', strategy: 'core "x" \\ {y}' } },
    { name: 'risk_utilization', value: 0.5, labels: { scope: 'total' } },
  ]);
});

test('a cycle with one point Postgres refuses is written not at all: a reader never sees half a cycle', async () => {
  const portfolioId = uniqueId('metrics');
  await new PortfolioStore(pool).ensure(portfolioId);
  const points = cycle(portfolioId, 'c2');
  // The last point has no portfolio (NOT NULL), as a row Postgres refuses.
  const refused = [...points.slice(0, -1), { ...points[points.length - 1], portfolioId: null as unknown as string }];
  await expect(new MetricsStore(pool).record(refused)).rejects.toMatchObject({ code: '23502' });
  expect(await stored(portfolioId)).toEqual([]);
});

test("one point in the caller's transaction (an override, a regime change) is written with it, or not at all", async () => {
  const portfolioId = uniqueId('metrics');
  await new PortfolioStore(pool).ensure(portfolioId);
  const [point, , , notFinite] = cycle(portfolioId, 'c3');
  await expect(
    inTransaction(pool, async (client) => {
      await recordMetricIn(client, point);
      throw new Error('the caller gives up');
    }),
  ).rejects.toThrow('the caller gives up');
  expect(await stored(portfolioId)).toEqual([]);
  await inTransaction(pool, async (client) => {
    await recordMetricIn(client, point);
    await recordMetricIn(client, notFinite);
  });
  expect(await stored(portfolioId)).toEqual([{ name: 'risk_utilization', value: 0.5, labels: { scope: 'total' } }]);
});
