// Hand-checked recommendation arithmetic. Conventions: weights are fractions of capital (cash included),
// turnover = Σ|Δw| (buys + sells), cost = traded notional × bps / 10 000.
import { addsRisk } from '../../../risk/budget';
import { defaultRiskConfig } from '../../../risk/config';
import { covarianceFromRows } from '../../../risk/covariance';
import { buildRecommendation } from '../../../risk/recommendation';
import type { TriggerResult } from '../../../risk/triggers';
import { currency, fraction } from '../../../risk/units';
import { handBudget } from './fixtures';

const config = defaultRiskConfig(); // 5 bps, regimes bull → crisis
const budget = handBudget(); // targets A 300 000, B 200 000 of capital 1 000 000
const positions = { A: currency(350_000), C: currency(100_000) };
const cov = covarianceFromRows(
  'annualized',
  ['A', 'B', 'C'],
  [
    [0.04, 0, 0],
    [0, 0.04, 0],
    [0, 0, 0.04],
  ],
);
const fired = (kind: TriggerResult['kind']): TriggerResult => ({ kind, fired: true, value: 1, threshold: 0, detail: 'x' });

describe('buildRecommendation', () => {
  const rec = buildRecommendation({ positions, budget, committed: budget, config });

  it('lists per-asset deltas in currency and weight, largest trade first', () => {
    expect(rec.deltas.map((d) => [d.asset, d.currentNotional, d.targetNotional, d.deltaNotional])).toEqual([
      ['B', 0, 200_000, 200_000],
      ['C', 100_000, 0, -100_000],
      ['A', 350_000, 300_000, -50_000],
    ]);
    const [b, c, a] = rec.deltas;
    expect(b.deltaWeight).toBeCloseTo(0.2, 15);
    expect(c.deltaWeight).toBeCloseTo(-0.1, 15);
    expect(a.deltaWeight).toBeCloseTo(-0.05, 15);
  });

  it('holds both allocations with an explicit cash line', () => {
    expect(rec.current.cash).toBeCloseTo(0.55, 15);
    expect(rec.target.cash).toBeCloseTo(0.5, 15);
    expect(rec.current.gross).toBe(450_000);
    expect(rec.target.gross).toBe(500_000);
    expect(rec.target.weights).toEqual({ A: 0.3, B: 0.2 });
  });

  it('turnover 350 000 / 1 000 000 = 0.35; cost 350 000 × 5 bp = 175', () => {
    expect(rec.tradedNotional).toBe(350_000);
    expect(rec.turnover).toBeCloseTo(0.35, 15);
    expect(rec.costBps).toBe(5);
    expect(rec.estimatedCost).toBeCloseTo(175, 10);
    expect(buildRecommendation({ positions, budget, config, costBps: 12 }).estimatedCost).toBeCloseTo(420, 10);
  });

  it('without a covariance, more gross exposure (450k → 500k) counts as adding risk', () => {
    expect(rec.addsRisk).toBe(true);
    expect(rec.currentForecastVol).toBeNull();
  });

  it('with a covariance, forecast risk decides: 0.2·√0.1325 → 0.2·√0.13 is less risk despite more gross', () => {
    const r = buildRecommendation({ positions, budget, committed: budget, config, covariance: cov });
    expect(r.currentForecastVol).toBeCloseTo(0.2 * Math.sqrt(0.35 ** 2 + 0.1 ** 2), 14);
    expect(r.targetForecastVol).toBeCloseTo(0.2 * Math.sqrt(0.3 ** 2 + 0.2 ** 2), 14);
    expect(r.addsRisk).toBe(false);
  });

  it('a budget that loosens a limit adds risk even when the book de-risks', () => {
    const tighter = handBudget({ limits: { ...budget.limits, maxGrossNotional: currency(500_000) } });
    expect(buildRecommendation({ positions, budget, committed: tighter, config, covariance: cov }).addsRisk).toBe(true);
    expect(buildRecommendation({ positions, budget, config, covariance: cov }).addsRisk).toBe(true); // first budget
  });

  it('refuses to call a held asset riskless when the covariance does not cover it', () => {
    const ab = covarianceFromRows(
      'annualized',
      ['A', 'B'],
      [
        [0.04, 0],
        [0, 0.04],
      ],
    );
    expect(() => buildRecommendation({ positions, budget, config, covariance: ab })).toThrow(/C/);
  });
});

describe('priority', () => {
  const priorityOf = (over: Partial<Parameters<typeof buildRecommendation>[0]>) =>
    buildRecommendation({ positions, budget, committed: budget, config, covariance: cov, ...over }).priority;
  const crisis = handBudget({ regime: 'crisis' });

  it('de-risking into the most turbulent regime is urgent', () => {
    expect(priorityOf({ budget: crisis, committed: crisis })).toBe('urgent');
  });
  it('de-risking a book that breaches its budget is urgent', () => {
    expect(priorityOf({ triggers: [fired('budget-breach')] })).toBe('urgent');
  });
  it('regime change, vol breach and correlation spike are high; drift is normal; nothing is low', () => {
    expect(priorityOf({ triggers: [fired('regime-change')] })).toBe('high');
    expect(priorityOf({ triggers: [fired('vol-breach')] })).toBe('high');
    expect(priorityOf({ triggers: [fired('correlation-spike')] })).toBe('high');
    expect(priorityOf({ triggers: [fired('drift')] })).toBe('normal');
    expect(priorityOf({ triggers: [{ ...fired('drift'), fired: false }] })).toBe('low');
  });
  it('adding risk is never urgent, even in crisis', () => {
    expect(priorityOf({ budget: crisis, committed: undefined, triggers: [fired('budget-breach')] })).toBe('high');
  });
});

describe('addsRisk (risk/budget.ts) also covers strategy limits and the price collar', () => {
  it('a looser strategy gross limit or a wider collar adds risk; identical budgets do not', () => {
    const looserStrategy = handBudget({ strategies: budget.strategies.map((s) => ({ ...s, maxGrossNotional: currency(600_000) })) });
    const widerCollar = handBudget({ limits: { ...budget.limits, priceCollar: fraction(0.2) } });
    const newStrategy = handBudget({ strategies: [...budget.strategies, { ...budget.strategies[0], strategy: 'new' }] });
    expect(addsRisk(budget, handBudget())).toBe(false);
    expect(addsRisk(budget, looserStrategy)).toBe(true);
    expect(addsRisk(looserStrategy, budget)).toBe(false);
    expect(addsRisk(budget, widerCollar)).toBe(true);
    expect(addsRisk(budget, newStrategy)).toBe(true);
  });
});
