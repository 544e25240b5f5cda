/** The typed payloads beside the JSON strings: a budget field for field, a recommendation read defensively. */
import { budgetMessage, recommendationPayload } from '../../../grpc/payloads';
import type { RecommendationView } from '../../../db/stores/recommendationViews';
import { budget } from '../risk/pretrade/fixtures';

test('a budget as typed fields: limits, strategies, pairs (lot size 0 = none), as_of as a Timestamp', () => {
  const b = budget('p1');
  const lotted = { ...b, assets: b.assets.map((a, i) => (i === 0 ? { ...a, lotSize: 100 } : a)) };
  const m = budgetMessage(lotted);
  expect(m).toMatchObject({ portfolioId: 'p1', regime: 'bull', volTarget: 0.12, forecastVol: 0.11, riskLimits: undefined });
  expect(m.asOf).toEqual({ seconds: Date.parse('2026-01-05T00:00:00Z') / 1000, nanos: 0 });
  expect(m.limits).toEqual(b.limits);
  expect(m.strategies).toEqual(b.strategies);
  expect(m.assets.map((a) => [a.asset, a.maxPositionNotional, a.referencePrice, a.lotSize])).toEqual([
    ['AAPL', 200_000, 100, 100],
    ['MSFT', 250_000, 200, 0],
    ['XOM', 150_000, 50, 0],
  ]);
});

test('a recommendation payload: summary, detail, triggers; numbers that are missing stay absent', () => {
  const view: RecommendationView = {
    id: 'r1',
    status: 'PENDING',
    reason: 'regime change',
    addsRisk: true,
    createdAtMs: 0,
    summary: {
      regimeBefore: null,
      regimeAfter: 'crisis',
      grossLimitBefore: null,
      grossLimitAfter: 5e5,
      leverageAfter: 0.5,
      bookRiskUp: 'yes',
    },
    detail: {
      asOf: '2026-01-05T00:00:00Z',
      regime: 'crisis',
      capital: 1e6,
      current: { notionals: { AAPL: 1000 }, weights: { AAPL: 0.001 }, cash: 0.999, gross: 1000 },
      target: { notionals: {}, weights: {}, cash: 1, gross: 0 },
      deltas: [
        {
          asset: 'AAPL',
          currentNotional: 1000,
          targetNotional: 0,
          deltaNotional: -1000,
          currentWeight: 0.001,
          targetWeight: 0,
          deltaWeight: -0.001,
        },
      ],
      turnover: 0.001,
      tradedNotional: 1000,
      estimatedCost: 0.5,
      costBps: 5,
      currentForecastVol: null,
      targetForecastVol: 0.05,
      addsRisk: false,
      priority: 'urgent',
      reasons: ['regime-change: calm → crisis'],
    },
    triggers: [
      { kind: 'initial-budget', fired: false, value: 'exists', threshold: null },
      { kind: 'drift', fired: true, value: 0.07, threshold: 0.05, detail: 'drift 7 %' },
    ],
    committedVersion: null,
  };
  const p = recommendationPayload(view);
  expect(p.summary).toEqual({
    regimeBefore: '',
    regimeAfter: 'crisis',
    grossLimitBefore: undefined,
    grossLimitAfter: 5e5,
    leverageBefore: undefined,
    leverageAfter: 0.5,
    priority: '',
    turnover: undefined,
    estimatedCost: undefined,
    bookRiskUp: true,
  });
  expect(p.detail).toMatchObject({
    regime: 'crisis',
    capital: 1e6,
    currentForecastVol: undefined,
    targetForecastVol: 0.05,
    priority: 'urgent',
  });
  expect(p.detail?.current).toEqual({ notionals: { AAPL: 1000 }, weights: { AAPL: 0.001 }, cash: 0.999, gross: 1000 });
  expect(p.detail?.deltas[0]).toMatchObject({ asset: 'AAPL', deltaNotional: -1000 });
  expect(p.triggers).toEqual([
    { kind: 'initial-budget', fired: false, value: undefined, threshold: undefined, valueLabel: 'exists', detail: '' },
    { kind: 'drift', fired: true, value: 0.07, threshold: 0.05, valueLabel: '', detail: 'drift 7 %' },
  ]);
  expect(p.committedVersion).toBeUndefined();
  // A row with no detail and malformed JSON columns still answers.
  expect(recommendationPayload({ ...view, summary: 'x', detail: null, triggers: {} })).toMatchObject({ detail: undefined, triggers: [] });
});
