/**
 * The ex-ante risk checks (VOL_LIMIT, RISK_BUDGET): the incremental vectors against a direct
 * recomputation, one known case per reason, risk-reducing orders, and SizePosition's quadratic solve
 * as a property (the size passes, a hair more fails).
 */
import fc from 'fast-check';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RiskBudget } from '../../../../risk/budget';
import { type CovarianceMatrix, covarianceFromRows } from '../../../../risk/covariance';
import { denseCovarianceOf } from '../../../../risk/factorModel';
import { evaluateOrder, sizeOrder, type CheckContext } from '../../../../risk/pretrade/checks';
import { ExposureBook, worstCaseUnits } from '../../../../risk/pretrade/exposures';
import { buildSnapshot } from '../../../../risk/pretrade/snapshot';
import { seededRng } from '../../../../risk/random';
import { type RiskModel, denseRiskModel, factorRiskModel, riskModelId } from '../../../../risk/riskModel';
import type { AnnualizedVol, Fraction } from '../../../../risk/units';
import { randomFactorModel } from '../helpers';
import { budget, fillInto, gateCore, order, T0 } from './fixtures';

const ASSETS = ['AAPL', 'MSFT', 'XOM'];
const policy = { staleReduceAfterMs: 3_600_000, staleHaltAfterMs: 4 * 3_600_000, restrictedInstruments: new Set<string>() };

/** Σ from vols and correlations of AAPL, MSFT, XOM. */
function covariance(vols: [number, number, number], corr: { am?: number; ax?: number; mx?: number } = {}): CovarianceMatrix<'annualized'> {
  const r = [
    [1, corr.am ?? 0, corr.ax ?? 0],
    [corr.am ?? 0, 1, corr.mx ?? 0],
    [corr.ax ?? 0, corr.mx ?? 0, 1],
  ];
  return covarianceFromRows(
    'annualized',
    ASSETS,
    r.map((row, i) => row.map((c, j) => c * vols[i] * vols[j])),
  );
}

function withRisk(model: RiskModel, volLimit: number, tolerance = 0.1, base: RiskBudget = budget()): RiskBudget {
  return {
    ...base,
    riskLimits: {
      modelId: riskModelId(model),
      form: model.form,
      assetCount: model.assets.length,
      volLimit: volLimit as AnnualizedVol,
      riskBudgetTolerance: tolerance as Fraction,
    },
  };
}

function snapshot(b: RiskBudget, model: RiskModel | undefined, version = 1) {
  return buildSnapshot({ portfolioId: 'p1', version, committedAt: new Date(T0).toISOString(), budget: b }, 'ACTIVE', [], undefined, model);
}

/** Capital 1M, vol limit 7 % = 70k; AAPL at 100, MSFT at 200, XOM at 50 (fixtures.ts). */
function pairCore(corr: number) {
  const clock = { now: T0 + 1_000 };
  const core = gateCore(clock);
  const model = denseRiskModel(covariance([0.2, 0.2, 0.3], { am: corr }));
  core.install(snapshot(withRisk(model, 0.07), model));
  // 190k of AAPL: σ = 38k, within every notional limit and within the vol limit alone.
  fillInto(core, 'trend', 'AAPL', 1_900, 100);
  return core;
}

describe('VOL_LIMIT', () => {
  test('two positions each within notional limits whose sum breaches the vol limit: denied', () => {
    const core = pairCore(0.9);
    // 190k of MSFT alone: σ = 38k; with AAPL at ρ = 0.9: 38k·√3.8 = 74.1k > 70k.
    fillInto(core, 'trend', 'MSFT', 450, 200);
    const r = core.evaluate(order({ instrument: 'MSFT', quantity: 500, price: 200 }), 'test', process.hrtime.bigint());
    expect(r.reasons).toEqual(['VOL_LIMIT']);
    expect(r.risk!.volBefore).toBeCloseTo(Math.sqrt(38_000 ** 2 + 18_000 ** 2 + 2 * 0.9 * 38_000 * 18_000) / 1e6, 12);
    expect(r.risk!.volAfter).toBeCloseTo((38_000 * Math.sqrt(3.8)) / 1e6, 12);
    expect(r.risk!.volLimit).toBe(0.07);
    expect(r.detail).toBe('book ex-ante vol would rise from 5.476% to 7.408% above the limit 7.000%');
    // The same numbers as structured fields: the book's vol, portfolio scope, no override possible.
    expect(r.explanations).toEqual([
      {
        reason: 'VOL_LIMIT',
        scope: 'PORTFOLIO',
        strategy: '',
        instrument: '',
        measure: 'VOL',
        limit: 0.07,
        current: r.risk!.volBefore,
        postTrade: r.risk!.volAfter,
        overridden: false,
      },
    ]);
  });

  test('the same pair with negative correlation passes', () => {
    const core = pairCore(-0.9);
    fillInto(core, 'trend', 'MSFT', 450, 200);
    const r = core.evaluate(order({ instrument: 'MSFT', quantity: 500, price: 200 }), 'test', process.hrtime.bigint());
    expect(r).toMatchObject({ approved: true, reasons: [] });
    expect(r.risk!.volAfter).toBeCloseTo((38_000 * Math.sqrt(0.2)) / 1e6, 12);
  });

  test('an order that lowers the book variance passes whatever the level', () => {
    const core = pairCore(0.9);
    fillInto(core, 'trend', 'MSFT', 950, 200); // 74.1k: already above the 70k limit
    const buy = core.evaluate(order({ instrument: 'AAPL', quantity: 1, price: 100 }), 'test', process.hrtime.bigint());
    expect(buy.reasons).toEqual(['VOL_LIMIT']);
    const sell = core.evaluate(order({ instrument: 'AAPL', side: 'SELL', quantity: 100, price: 100 }), 'test', process.hrtime.bigint());
    expect(sell).toMatchObject({ approved: true });
    // The sell is only reserved: until it fills, the worst case (it does not) is unchanged.
    expect(sell.risk!.volAfter).toBeCloseTo(sell.risk!.volBefore, 15);
  });

  test('SizePosition stops at the vol limit and names it', () => {
    const core = pairCore(0.9);
    fillInto(core, 'trend', 'MSFT', 450, 200);
    const s = core.size(order({ instrument: 'MSFT', quantity: 450, price: 200, clientOrderId: '' }), 'test', process.hrtime.bigint());
    expect(s.binding).toBe('VOL_LIMIT');
    expect(s.risk!.volAfter).toBeCloseTo(0.07, 9);
    // The trimmed size explains its binding limit at the requested quantity (what would have broken it).
    expect(s.explanation).toMatchObject({ reason: 'VOL_LIMIT', scope: 'PORTFOLIO', measure: 'VOL', limit: 0.07 });
    expect(s.explanation!.postTrade).toBeGreaterThan(0.07);
    // MSFT's σ m solves 38² + m² + 2·0.9·38·m = 70² (k): m = −34.2 + √(34.2² + 70² − 38²); units = m / 0.2 / 200.
    const m = (-34.2 + Math.sqrt(34.2 ** 2 + 70 ** 2 - 38 ** 2)) * 1_000;
    expect(s.quantity).toBeCloseTo(m / 0.2 / 200 - 450, 6);
  });
});

describe('RISK_BUDGET', () => {
  test("a strategy taking more than its share of the book's risk (plus tolerance) is denied", () => {
    const clock = { now: T0 + 1_000 };
    const core = gateCore(clock);
    const model = denseRiskModel(covariance([0.2, 0.2, 0.6]));
    core.install(snapshot(withRisk(model, 0.5), model)); // vol limit out of the way
    fillInto(core, 'trend', 'AAPL', 1_900, 100); // trend: σ 38k
    fillInto(core, 'carry', 'XOM', 1_000, 50); // carry: 50k at 60 %: σ 30k
    // Budgeted book: forecast vol 11 % = 110k, so carry's share is 30²/110² = 7.4 % today. Another
    // 1800 XOM (90k more) takes it to 84² / 110² = 58 %: above 30 % + 10 %.
    const r = core.evaluate(order({ strategy: 'carry', instrument: 'XOM', quantity: 1_800, price: 50 }), 'test', process.hrtime.bigint());
    expect(r.reasons).toEqual(['RISK_BUDGET']);
    expect(r.risk!.contributionBefore).toBeCloseTo(30 ** 2 / 110 ** 2, 12);
    expect(r.risk!.contributionAfter).toBeCloseTo(84 ** 2 / 110 ** 2, 12);
    expect(r.risk!.contributionLimit).toBeCloseTo(0.4, 12);
    expect(r.explanations).toEqual([
      {
        reason: 'RISK_BUDGET',
        scope: 'STRATEGY',
        strategy: 'carry',
        instrument: '',
        measure: 'RISK_SHARE',
        limit: r.risk!.contributionLimit,
        current: r.risk!.contributionBefore,
        postTrade: r.risk!.contributionAfter,
        overridden: false,
      },
    ]);
    // The trend strategy may still add: its share rises but stays inside 80 %.
    const trend = core.evaluate(order({ instrument: 'MSFT', quantity: 100, price: 200 }), 'test', process.hrtime.bigint());
    expect(trend.approved).toBe(true);
    // SizePosition for carry stops where its share is exactly 40 % of the budgeted 110k²: σ = 69.57k.
    const s = core.size(order({ strategy: 'carry', instrument: 'XOM', quantity: 1_800, price: 50, clientOrderId: '' }), 'test', 0n);
    expect(s.binding).toBe('RISK_BUDGET');
    expect(s.quantity).toBeCloseTo(((Math.sqrt(0.4) * 110_000) / 0.6 - 50_000) / 50, 6);
  });
});

describe('budgets and models', () => {
  test('a budget without a risk model (older versions) loads and skips the risk checks', () => {
    const core = gateCore({ now: T0 + 1_000 });
    core.install(snapshot(budget(), undefined));
    fillInto(core, 'trend', 'AAPL', 1_900, 100);
    const r = core.evaluate(order({ instrument: 'MSFT', quantity: 400, price: 200 }), 'test', 0n);
    expect(r).toMatchObject({ approved: true, risk: undefined });
    expect(core.utilization('p1')!.risk).toBeUndefined();
  });

  test('a budget naming a model the gate does not have denies (fail closed)', () => {
    const core = gateCore({ now: T0 + 1_000 });
    const model = denseRiskModel(covariance([0.2, 0.2, 0.3]));
    core.install(snapshot(withRisk(model, 0.07), undefined));
    const r = core.evaluate(order({ quantity: 1 }), 'test', 0n);
    expect(r.reasons).toEqual(['VOL_LIMIT']);
    expect(r.detail).toMatch(/is not in the store/);
  });

  test('a model that arrives after its budget (same version reloaded) is picked up', () => {
    const core = gateCore({ now: T0 + 1_000 });
    const model = denseRiskModel(covariance([0.2, 0.2, 0.3]));
    const b = withRisk(model, 0.07);
    core.install(snapshot(b, undefined));
    fillInto(core, 'trend', 'AAPL', 1_900, 100);
    expect(core.evaluate(order({ quantity: 1 }), 'test', 0n).reasons).toEqual(['VOL_LIMIT']);
    core.install(snapshot(b, model));
    const r = core.evaluate(order({ quantity: 1 }), 'test', 0n);
    expect(r.approved).toBe(true);
    expect(r.risk!.volBefore).toBeCloseTo(0.038, 12);
  });

  test('GetUtilization reports the vol and the contributions from the same vectors', () => {
    const core = pairCore(0.9);
    fillInto(core, 'carry', 'XOM', 1_000, 50);
    const u = core.utilization('p1')!.risk!;
    const V = 38_000 ** 2 + 15_000 ** 2;
    expect(u.vol).toBeCloseTo(Math.sqrt(V) / 1e6, 12);
    expect(u).toMatchObject({ volTarget: 0.12, volLimit: 0.07 });
    const byName = Object.fromEntries(u.strategies.map((s) => [s.strategy, s]));
    expect(byName.trend.contribution).toBeCloseTo(38_000 ** 2 / 110_000 ** 2, 12);
    expect(byName.carry).toMatchObject({ budget: 0.3, limit: 0.4 });
    expect(byName.carry.contribution).toBeCloseTo(15_000 ** 2 / 110_000 ** 2, 12);
  });
});

describe('incremental vectors', () => {
  const universe = Array.from({ length: 12 }, (_, i) => `A${i}`);
  const strategies = ['s0', 's1', 's2'];

  function bigBudget(model: RiskModel): RiskBudget {
    const base = budget();
    const huge = 1e12;
    return withRisk(model, 10, 1, {
      ...base,
      limits: { ...base.limits, maxGrossNotional: huge as never, maxNetNotional: huge as never, maxOrderNotional: huge as never },
      strategies: strategies.map((s) => ({
        ...base.strategies[0],
        strategy: s,
        riskBudget: (1 / 3) as Fraction,
        maxGrossNotional: huge as never,
        maxNetNotional: huge as never,
      })),
      assets: strategies.flatMap((s, k) =>
        universe.map((a, i) => ({
          ...base.assets[0],
          strategy: s,
          asset: a,
          referencePrice: (10 + i + k) as never,
          maxPositionNotional: huge as never,
        })),
      ),
    });
  }

  function direct(book: ExposureBook, sigma: CovarianceMatrix) {
    const n = universe.length;
    const x = new Float64Array(n);
    const xs = new Map(strategies.map((s) => [s, new Float64Array(n)]));
    for (const e of book.allPairs()) {
      const i = universe.indexOf(e.asset);
      const v = worstCaseUnits(e) * e.price;
      x[i] += v;
      xs.get(e.strategy)![i] += v;
    }
    const quad = (a: Float64Array, b: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += a[i] * sigma.values[i * n + j] * b[j];
      return s;
    };
    const times = (a: Float64Array) => Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + sigma.values[i * n + j] * aj, 0));
    return {
      variance: quad(x, x),
      contributions: new Map(strategies.map((s) => [s, quad(xs.get(s)!, x)])),
      sigmaX: times(x),
      strategySigmaX: new Map(strategies.map((s) => [s, times(xs.get(s)!)])),
    };
  }

  // Settling: never (dense moves stay queued, the full queue applies its oldest on the spot), or at
  // random points as the gate does off the answer path (which also runs the periodic rebuild).
  test.each([
    ['dense form', false, 0],
    ['factor form', true, 0],
    ['dense form, settled at random points', false, 0.3],
    ['factor form, settled at random points', true, 0.3],
  ])('%s: after 5000 random reservations, fills and releases xᵀΣx agrees with a direct recomputation to 1e-9', (_, factor, settleRate) => {
    const fm = randomFactorModel(universe.length, 3, 7);
    const dense = denseCovarianceOf(fm);
    const model = factor ? factorRiskModel(fm) : denseRiskModel({ ...dense, assets: universe });
    const snap = snapshot(bigBudget(model), model);
    const book = new ExposureBook('p1');
    book.reprice(snap);
    const rng = seededRng(42);
    const open: Array<{ id: string; strategy: string; asset: string; side: 'BUY' | 'SELL' }> = [];
    let worst = 0;
    for (let step = 0; step < 5_000; step++) {
      const now = T0 + step;
      const u = rng.uniform();
      if (u < 0.45 || open.length === 0) {
        const o = {
          id: `o${step}`,
          strategy: strategies[Math.floor(rng.uniform() * 3)],
          asset: universe[Math.floor(rng.uniform() * universe.length)],
          side: rng.uniform() < 0.5 ? ('BUY' as const) : ('SELL' as const),
        };
        book.reserve(o.id, o.strategy, o.asset, o.side, 1 + Math.floor(rng.uniform() * 500), 10, now, 3_000);
        open.push(o);
      } else {
        const k = Math.floor(rng.uniform() * open.length);
        const o = open[k];
        const done = rng.uniform() < 0.6;
        book.applyFill({
          ...o,
          clientOrderId: o.id,
          fillId: `f${step}`,
          quantity: Math.floor(rng.uniform() * 400),
          price: 10,
          orderDone: done,
          nowMs: now,
        });
        if (done) open.splice(k, 1);
      }
      if (step % 250 === 0) book.expire(now); // timeouts release what is left
      if (rng.uniform() < settleRate) book.settleRisk();
      if (step % 100 === 99) {
        const d = direct(book, dense);
        const v = book.riskVectors!;
        worst = Math.max(worst, Math.abs(v.variance - d.variance) / d.variance);
        const scale = Math.max(...d.sigmaX.map(Math.abs));
        for (let i = 0; i < universe.length; i++) {
          expect(Math.abs(v.sigmaXAt(i) - d.sigmaX[i])).toBeLessThanOrEqual(1e-9 * scale);
        }
        for (const s of strategies) {
          const own = v.strategy(s)!;
          expect(Math.abs(own.contribution - d.contributions.get(s)!)).toBeLessThanOrEqual(1e-9 * d.variance);
          for (let i = 0; i < universe.length; i++) {
            expect(Math.abs(v.strategySigmaXAt(own, i) - d.strategySigmaX.get(s)![i])).toBeLessThanOrEqual(1e-9 * scale);
          }
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });

  test('the gate settles the deferred dense update once the event loop is free; the next decision sees it before', async () => {
    const core = pairCore(0.9); // a fill of AAPL, queued
    fillInto(core, 'trend', 'MSFT', 450, 200);
    const v = core.book('p1').riskVectors!;
    expect(v.unsettled).toBe(2);
    // Nothing settled yet: the checks read the queue (the VOL_LIMIT case above, with both fills queued).
    const denied = core.evaluate(order({ instrument: 'MSFT', quantity: 500, price: 200 }), 'test', process.hrtime.bigint());
    expect(denied.reasons).toEqual(['VOL_LIMIT']);
    const approved = core.evaluate(order({ instrument: 'MSFT', quantity: 10, price: 200 }), 'test', process.hrtime.bigint());
    expect(approved.approved).toBe(true);
    expect(v.unsettled).toBe(3);
    await nextTurn();
    expect(v.unsettled).toBe(0);
    const sigmaX = v.kernel.times(v.x);
    for (let i = 0; i < ASSETS.length; i++) expect(v.sigmaXAt(i)).toBeCloseTo(sigmaX[i], 6);
    expect(v.variance).toBeCloseTo(v.directVariance(), 3);
  });

  test("property: SizePosition's quantity passes and a hair more fails", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.tuple(fc.nat(11), fc.nat(2), fc.integer({ min: -3_000, max: 3_000 }), fc.nat(2_000), fc.nat(2_000)), { maxLength: 15 }),
        fc.nat(11),
        fc.nat(2),
        fc.boolean(),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0.005, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        (seed, holdings, ai, si, buy, qty, volLimit, tolerance) => {
          const fm = randomFactorModel(universe.length, 3, seed);
          const model = denseRiskModel({ ...denseCovarianceOf(fm), assets: universe });
          const b = bigBudget(model);
          const snap = snapshot(
            { ...b, riskLimits: { ...b.riskLimits!, volLimit: volLimit as AnnualizedVol, riskBudgetTolerance: tolerance as Fraction } },
            model,
          );
          const book = new ExposureBook('p1');
          book.reprice(snap);
          holdings.forEach(([a, s, pos, rb, rs], k) => {
            const strategy = strategies[s];
            const asset = universe[a];
            if (pos !== 0)
              book.applyFill({
                strategy,
                asset,
                side: pos > 0 ? 'BUY' : 'SELL',
                clientOrderId: `h${k}`,
                fillId: '',
                quantity: Math.abs(pos),
                price: 10,
                orderDone: true,
                nowMs: T0,
              });
            if (rb > 0) book.reserve(`rb${k}`, strategy, asset, 'BUY', rb, 10, T0, 60_000);
            if (rs > 0) book.reserve(`rs${k}`, strategy, asset, 'SELL', rs, 10, T0, 60_000);
          });
          const ctx: CheckContext = { snapshot: snap, portfolioKnown: true, book, nowMs: T0 + 1, policy };
          const ref = 10 + ai + si;
          const o = order({
            strategy: strategies[si],
            instrument: universe[ai],
            side: buy ? 'BUY' : 'SELL',
            quantity: qty,
            price: ref,
            clientOrderId: '',
          });
          const sized = sizeOrder(o, ctx);
          if (sized.quantity > 0) expect(evaluateOrder({ ...o, quantity: sized.quantity }, ctx).reasons).toEqual([]);
          if (sized.quantity < qty) {
            expect(['VOL_LIMIT', 'RISK_BUDGET']).toContain(sized.binding);
            // ε (1e-6 relative + a thousandth of a unit) above the checks' 1e-9 relative slack on the
            // variance, far below any real order size.
            const more = sized.quantity * (1 + 1e-6) + 1e-3;
            if (more < qty) expect(evaluateOrder({ ...o, quantity: more }, ctx).approved).toBe(false);
          } else {
            expect(sized.binding).toBeUndefined();
          }
        },
      ),
      { numRuns: 400, seed: 15 },
    );
  });
});
