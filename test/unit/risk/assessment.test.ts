import {
  assessBudget,
  committedExposureVol,
  correlationNotPricedIn,
  initialBudgetTrigger,
  limitChangeTrigger,
} from '../../../risk/assessment';
import type { RiskBudget } from '../../../risk/budget';
import { defaultRiskConfig } from '../../../risk/config';
import { annualizedVol, currency, fraction, leverage } from '../../../risk/units';
import { handBudget } from './fixtures';

const config = defaultRiskConfig(); // drift threshold 0.05, correlation spike 0.75, vol breach 1.5, regime cooldown 1 day
const withLimits = (b: RiskBudget, gross: number, lev: number, over: Partial<RiskBudget> = {}): RiskBudget => ({
  ...b,
  ...over,
  limits: { ...b.limits, maxGrossNotional: currency(gross), grossLeverage: leverage(lev) },
});
const onTarget = (b: RiskBudget) => Object.fromEntries(b.assets.map((a) => [a.asset, a.targetNotional]));
const fired = (a: ReturnType<typeof assessBudget>) => a.triggers.filter((t) => t.fired).map((t) => t.kind);

describe('trigger helpers', () => {
  const current = handBudget();

  it('initial budget fires only when nothing is committed', () => {
    expect(initialBudgetTrigger(null)).toMatchObject({ kind: 'initial-budget', fired: true, value: 'none' });
    expect(initialBudgetTrigger(current)).toMatchObject({ fired: false, value: 'exists' });
  });

  it('limit change fires when the gross limit moved by more than the threshold, relative', () => {
    const at = limitChangeTrigger(current, withLimits(current, 550_000 * 1.0625, 0.5), fraction(0.0625));
    expect(at).toMatchObject({ kind: 'limit-change', fired: false, value: 0.0625 });
    expect(limitChangeTrigger(current, withLimits(current, 550_000 * 0.9, 0.5), fraction(0.0625))).toMatchObject({ fired: true });
    expect(at.detail).toBe('gross limit 550000 → 584375');
  });

  it("committed exposure vol: the proposal's forecast rescaled to the committed leverage", () => {
    const proposed = withLimits(current, 1, 0.25, { forecastVol: annualizedVol(0.1) });
    expect(committedExposureVol(current, proposed)).toBeCloseTo(0.2, 12); // 0.5 / 0.25 × 0.1
    expect(committedExposureVol(current, withLimits(current, 1, 0))).toBe(0);
  });

  it('correlation already priced in: 0 when the committed budget saw a spike, else the current average', () => {
    const proposed = { ...current, diagnostics: { avgCorrelation: 0.9 } };
    expect(correlationNotPricedIn({ ...current, diagnostics: { avgCorrelation: 0.8 } }, proposed, 0.75)).toBe(0);
    expect(correlationNotPricedIn({ ...current, diagnostics: { avgCorrelation: 0.5 } }, proposed, 0.75)).toBe(0.9);
    expect(correlationNotPricedIn(current, { ...current, diagnostics: {} }, 0.75)).toBe(0);
  });
});

describe('assessing a proposed budget', () => {
  const current = handBudget();

  it('proposes the first budget, with the engine recommendation and a summary', () => {
    const a = assessBudget({ config, current: null, proposed: current, positions: {}, lastRegimeCommitAtMs: null, nowMs: 0 });
    expect(fired(a)).toEqual(['initial-budget']);
    expect(a).toMatchObject({ proposeBudget: true, rebalanceBook: false, addsRisk: true });
    expect(a.detail?.deltas.map((d) => d.asset).sort()).toEqual(['A', 'B']);
    expect(a.summary).toMatchObject({ regimeBefore: null, regimeAfter: 'bear', grossLimitAfter: 550_000, bookRiskUp: 'yes' });
  });

  it('answers book drift against a budget that still stands with a rebalance, not a proposal', () => {
    const positions = { A: currency(240_000), B: currency(200_000) }; // A 6 % of capital under target
    const a = assessBudget({ config, current, proposed: current, positions, lastRegimeCommitAtMs: null, nowMs: 0 });
    expect(fired(a)).toEqual(['drift']);
    expect(a).toMatchObject({ proposeBudget: false, rebalanceBook: true, detail: null });
  });

  it('proposes a tighter budget for a new regime, which adds no risk', () => {
    const proposed = withLimits(current, 400_000, 0.4, { regime: 'crisis' });
    const a = assessBudget({ config, current, proposed, positions: onTarget(current), lastRegimeCommitAtMs: null, nowMs: 0 });
    expect(fired(a)).toEqual(['regime-change', 'limit-change']);
    expect(a).toMatchObject({ proposeBudget: true, addsRisk: false });
    expect(a.triggers.map((t) => t.kind)).toEqual([
      'initial-budget',
      'drift',
      'regime-change',
      'correlation-spike',
      'vol-breach',
      'budget-breach',
      'limit-change',
    ]);
  });

  it('holds a regime change back during the cooldown after the last regime-driven commit', () => {
    const proposed = { ...current, regime: 'crisis' };
    const a = assessBudget({ config, current, proposed, positions: onTarget(current), lastRegimeCommitAtMs: 0, nowMs: 3_600_000 });
    expect(fired(a)).toEqual([]);
    expect(a.triggers.find((t) => t.kind === 'regime-change')?.detail).toMatch(/in cooldown/);
  });
});
