/**
 * The control loop on the real Temporal server and Postgres: from an empty portfolio to a committed
 * budget; a crisis on the synthetic feed produces a tighter budget without approval; metrics; the HMM.
 */
import { metricsSummary } from '../../../db/stores/metrics';
import { statusQuery } from '../../../workflows/messages';
import type { LoopStatus } from '../../../workflows/types';
import { eventually } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

describe('portfolio control loop', () => {
  const h = useLoopHarness('loop');

  const crisisBudget = (portfolioId: string, what: string) =>
    eventually(
      async () => {
        const latest = await h.store.latestBudget(portfolioId);
        return latest && latest.budget.regime === 'crisis' ? latest : undefined;
      },
      30_000,
      what,
    );

  it('commits a first budget, then a tighter one within a few intervals of a crisis', async () => {
    const { portfolioId, handle } = await h.startLoop({ prefix: 'pf', seed: 7 });
    const first = await eventually(async () => h.store.latestBudget(portfolioId), 30_000, 'the first budget version');
    expect(first.version).toBe(1);
    expect(first.budget.regime).not.toBe('crisis');

    await h.feeds.setRegime(portfolioId, 'crisis');
    const crisis = await crisisBudget(portfolioId, 'a crisis budget');
    expect(crisis.version).toBeGreaterThan(first.version);
    expect(crisis.budget.limits.maxGrossNotional).toBeLessThan(first.budget.limits.maxGrossNotional);
    for (const asset of crisis.budget.assets) {
      const before = first.budget.assets.find((a) => a.asset === asset.asset && a.strategy === asset.strategy);
      expect(asset.maxPositionNotional).toBeLessThan(before!.maxPositionNotional);
    }
    const status = await handle.query<LoopStatus>(statusQuery);
    expect(status.regime).toBe('crisis');
    expect(status.budgetVersion).toBeGreaterThanOrEqual(crisis.version);
    const change = [...status.regimeChanges].reverse().find((c) => c.to === 'crisis');
    expect(change).toMatchObject({ to: 'crisis', committedVersion: expect.any(Number) });
    expect(change!.committedVersion).toBeGreaterThanOrEqual(crisis.version);
    await handle.terminate('test done');
  }, 90_000);

  it('tracks the success metrics: correlation-aware risk utilization, realized vs target vol, response time', async () => {
    const { portfolioId, handle } = await h.startLoop({ prefix: 'metrics', seed: 17, input: { monitoringIntervalMs: 500 } });
    const first = await eventually(async () => h.store.latestBudget(portfolioId), 30_000, 'the first budget');
    // Hold exactly half of every target position, written in one statement so no reading sees half the
    // book: σ is homogeneous, so risk utilization must be 0.5 in every cycle recorded after the insert.
    const assets = first.budget.assets;
    await h.pool.query(
      'INSERT INTO positions (portfolio_id, strategy, asset, quantity) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::float8[])',
      [
        portfolioId,
        assets.map((a) => a.strategy),
        assets.map((a) => a.asset),
        assets.map((a) => (0.5 * a.targetNotional) / a.referencePrice),
      ],
    );
    const { rows: clock } = await h.pool.query<{ now: Date }>('SELECT now()');
    const utilization = await eventually(
      async () => {
        const { rows } = await h.pool.query<{ value: number }>(
          "SELECT value FROM metrics WHERE portfolio_id = $1 AND name = 'risk_utilization' AND labels->>'scope' = 'total' AND observed_at > $2 ORDER BY observed_at DESC LIMIT 1",
          [portfolioId, clock[0].now],
        );
        return rows[0]?.value;
      },
      15_000,
      'a risk utilization reading with positions',
    );
    expect(utilization).toBeCloseTo(0.5, 1);
    const summary = await metricsSummary(h.pool, portfolioId, 3_600_000);
    expect(summary.realizedVsTargetVol.target).toBeGreaterThan(0);
    expect(summary.realizedVsTargetVol.bookRealized).toBeGreaterThan(0);
    expect(summary.returnPerRisk).not.toBeNull();
    expect(summary.riskUtilization.byStrategy.core).toBeGreaterThan(0);
    expect(summary.regimeResponseMs.count).toBeGreaterThanOrEqual(1);
    await handle.terminate('test done');
  }, 90_000);

  it('reads the regime from the Gaussian HMM when configured, and de-risks on a crisis', async () => {
    const { portfolioId, handle } = await h.startLoop({
      prefix: 'hmm',
      seed: 13,
      // History with one past crisis (bars 150–199), so the HMM has both regimes to learn from.
      feed: {
        historyBars: 400,
        pastEpisodes: [
          { fromBar: 150, regime: 'crisis' },
          { fromBar: 200, regime: 'calm' },
        ],
      },
      input: { config: { risk_budgeting: { regime_detection: { method: 'hmm', states: 2, restarts: 3 } } } },
    });
    const first = await eventually(async () => h.store.latestBudget(portfolioId), 30_000, 'the first budget');
    expect(first.budget.regime).toBe('bull');
    await h.feeds.setRegime(portfolioId, 'crisis');
    const crisis = await crisisBudget(portfolioId, 'a crisis budget from the HMM');
    const status = await handle.query<LoopStatus>(statusQuery);
    expect(status.regimeReading?.method).toBe('hmm');
    expect(status.regimeReading?.regimes).toEqual(['bull', 'neutral', 'bear', 'crisis']);
    // K = 2 maps the calm state to "bull" and the turbulent one to "crisis".
    expect(status.regimeReading!.probabilities[3]).toBeGreaterThan(0.5);
    expect(crisis.budget.limits.grossLeverage).toBeLessThan(0.3);
    await handle.terminate('test done');
  }, 90_000);
});
