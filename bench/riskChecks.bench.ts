/**
 * What the ex-ante risk checks (VOL_LIMIT, RISK_BUDGET) cost per decision, in-process (no gRPC, no
 * audit I/O): the same book and orders with and without a risk model in the budget, at 50, 500 and
 * 2,000 assets, dense Σ and factor form (k = 20). Rounds alternate with/without to spread noise; the
 * table reports the fastest round's CPU time (user + system) per operation: on a shared machine the
 * fastest round is the one least disturbed by neighbours (the load average is printed with it).
 *
 * - check: evaluateOrder alone (the pure function; nothing reserved), µs per call
 * - decide: GateCore.evaluate, which also reserves an approved order, on the answer path: the book is
 *   settled between decisions as the gate does off the answer path (riskState.ts), and that settle is
 *   timed apart (the "settle" column: the deferred O(n) dense update; the factor form has none)
 * - burst: GateCore.evaluate back to back with no settle between them, so the full queue applies its
 *   oldest move on the request path (what a decision costs when requests arrive faster than the loop
 *   frees up: the O(n) update is then paid inline)
 * - reserve: ExposureBook.reserve alone (the update an approval makes after its checks), answer path;
 *   its settle apart
 * - fill: ExposureBook.applyFill of a fill that moves a position, answer path; its settle apart
 * - risk checks alone: the risk part of a check by itself (lookup, both checks, figures), the cleanest
 *   figure of what is added when the machine is noisy (the differences above subtract two noisy numbers)
 *
 * Goal (issue 15): the risk checks add ≤ 2 µs per decision at any size.
 */
import { loadavg } from 'node:os';
import { GateCore } from '../grpc/gate';
import type { RiskBudget } from '../risk/budget';
import { denseCovarianceOf, type FactorCovariance } from '../risk/factorModel';
import { evaluateOrder, type OrderRequest } from '../risk/pretrade/checks';
import type { ExposureBook } from '../risk/pretrade/exposures';
import { assessRisk } from '../risk/pretrade/riskChecks';
import { buildSnapshot, type PortfolioSnapshot } from '../risk/pretrade/snapshot';
import { seededRng } from '../risk/random';
import { type RiskModel, denseRiskModel, factorRiskModel, riskModelId } from '../risk/riskModel';
import type { AnnualizedVol, Currency, Fraction, Leverage, Price } from '../risk/units';

const ROUNDS = Number(process.env.RISK_BENCH_ROUNDS ?? 7);
const DECISIONS = 20_000;
const FILLS = 10_000;
const STRATEGIES = ['s0', 's1', 's2'];
const FACTORS = 20;

type Figure = 'check' | 'decide' | 'decideSettle' | 'burst' | 'reserve' | 'reserveSettle' | 'fill' | 'fillSettle' | 'risk';
type Figures = Record<Figure, number>;

export function run(): Promise<void> {
  console.log(
    `risk checks: ${DECISIONS} decisions and ${FILLS} fills per measurement, ${ROUNDS} rounds, the fastest round shown (CPU µs; load average ${loadavg()[0].toFixed(1)})`,
  );
  console.log(
    '  assets form   | check: off    on added | decide: off    on added settle | burst: off    on added | reserve: off    on added settle | fill: off    on added settle | risk alone',
  );
  for (const [n, form] of [
    [50, 'dense'],
    [50, 'factor'],
    [500, 'dense'],
    [500, 'factor'],
    [2_000, 'dense'],
    [2_000, 'factor'],
  ] as const) {
    const factor = syntheticFactorModel(n, FACTORS, n);
    const model = form === 'dense' ? denseRiskModel(denseCovarianceOf(factor)) : factorRiskModel(factor);
    const snapshots = { off: snapshotFor(n, undefined), on: snapshotFor(n, model) };
    const rows: Record<'off' | 'on', Figures[]> = { off: [], on: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['off', 'on'] as const) rows[kind].push(measure(n, snapshots[kind]));
    }
    const best = (kind: 'off' | 'on', k: Figure): number => Math.min(...rows[kind].map((r) => r[k]));
    const f = (x: number, w = 6): string => x.toFixed(2).padStart(w);
    const cell = (k: Figure): string => `${f(best('off', k))}${f(best('on', k))}${f(best('on', k) - best('off', k))}`;
    console.log(
      `  ${String(n).padStart(6)} ${form.padEnd(7)}|   ${cell('check')} |    ${cell('decide')}${f(best('on', 'decideSettle'), 7)} |   ${cell('burst')} |     ${cell('reserve')}${f(best('on', 'reserveSettle'), 7)} |  ${cell('fill')}${f(best('on', 'fillSettle'), 7)} | ${f(best('on', 'risk'), 10)}`,
    );
  }
  return Promise.resolve();
}

function measure(n: number, snapshot: PortfolioSnapshot): Figures {
  const core = (): GateCore => {
    const c = new GateCore({
      policy: { staleReduceAfterMs: 86_400_000 * 365, staleHaltAfterMs: 86_400_000 * 366, restrictedInstruments: new Set() },
      clock: Date.now,
      reservationTtlMs: 3_600_000,
      idMemoryMs: 86_400_000,
    });
    c.install(snapshot);
    return c;
  };
  const rng = seededRng(7);
  const seedFills = Array.from({ length: n }, (_, i) => ({
    portfolioId: 'bench',
    strategy: STRATEGIES[i % 3],
    instrument: `A${i}`,
    side: rng.uniform() < 0.5 ? ('BUY' as const) : ('SELL' as const),
    clientOrderId: `seed-${i}`,
    fillId: `seed-${i}`,
    quantity: 100 + Math.floor(rng.uniform() * 1_000),
    price: 100,
    orderDone: true,
  }));
  // A live book: every asset held by its strategy, settled.
  const liveBook = (c: GateCore): ExposureBook => {
    for (const fill of seedFills) c.reportFill(fill);
    const book = c.book('bench');
    book.settleRisk();
    return book;
  };
  const orders: OrderRequest[] = Array.from({ length: DECISIONS }, (_, k) => {
    const i = Math.floor(rng.uniform() * n);
    return {
      portfolioId: 'bench',
      strategy: STRATEGIES[i % 3],
      instrument: `A${i}`,
      side: k % 2 === 0 ? 'BUY' : 'SELL',
      quantity: 1,
      price: 100,
      clientOrderId: `o-${k}`,
    };
  });
  const gate = core();
  const book = liveBook(gate);
  const ctx = { snapshot, portfolioKnown: true, book, nowMs: Date.now(), policy: gate.options.policy };
  let approved = 0;
  const check = cpuMicros(DECISIONS, () => {
    for (const o of orders) if (evaluateOrder(o, ctx).approved) approved++;
  });
  if (approved !== DECISIONS) throw new Error(`bench orders should all pass; ${DECISIONS - approved} were denied`);

  // Answer path: each decision, then the settle the gate runs off the answer path, timed apart.
  const settled = settledLoop(DECISIONS, book, (k) => gate.evaluate(orders[k], 'bench', 0n));
  // Burst: no settle between decisions (a fresh gate with the same book).
  const burstGate = core();
  liveBook(burstGate);
  const burst = cpuMicros(DECISIONS, () => {
    for (const o of orders) burstGate.evaluate(o, 'bench', 0n);
  });
  book.settleRisk();
  // The approval's update alone (what GateCore.evaluate adds after the checks): a reservation.
  const reserves = settledLoop(DECISIONS, book, (k) => {
    const o = orders[k];
    book.reserve(`r-${k}`, o.strategy, o.instrument, o.side, o.quantity, o.price, 0, 3_600_000);
  });
  const fills = settledLoop(FILLS, book, (k) => {
    const o = orders[k];
    book.applyFill({
      strategy: o.strategy,
      asset: o.instrument,
      side: o.side,
      clientOrderId: `fill-${k}`,
      fillId: '',
      quantity: 5,
      price: 100,
      orderDone: true,
      nowMs: 0,
    });
  });
  // The risk part alone, as the checks run it: index lookup, pair, both checks at the order's quantity.
  let risk = 0;
  const vectors = book.riskVectors;
  if (snapshot.risk?.kernel && vectors) {
    const kernel = snapshot.risk.kernel;
    const r = snapshot.risk;
    let sink = 0;
    risk = cpuMicros(DECISIONS, () => {
      for (const o of orders) {
        const e = book.pair(o.strategy, o.instrument)!;
        const a = assessRisk(r, vectors, o.strategy, kernel.assetIndex.get(o.instrument)!, o.side, e, e.price);
        sink += a.evaluate(o.quantity).failed.length;
      }
    });
    if (sink !== 0) throw new Error('bench orders should pass the risk checks');
  }
  return {
    check,
    decide: settled.answer,
    decideSettle: settled.settle,
    burst,
    reserve: reserves.answer,
    reserveSettle: reserves.settle,
    fill: fills.answer,
    fillSettle: fills.settle,
    risk,
  };
}

/**
 * `operations` calls of `op`, each followed by the book's settle (as the gate runs it, off the answer
 * path): µs per operation on the answer path (CPU of the loop less the settles) and per settle. A
 * settle is timed by the wall clock (CPU time is too coarse per call); a call over 10× the median was
 * descheduled and counts at the median. The off run pays the same timer calls, so they cancel in "added".
 */
function settledLoop(operations: number, book: ExposureBook, op: (k: number) => void): { answer: number; settle: number } {
  const settles = new Float64Array(operations);
  const total = cpuMicros(operations, () => {
    for (let k = 0; k < operations; k++) {
      op(k);
      const t = process.hrtime.bigint();
      book.settleRisk();
      settles[k] = Number(process.hrtime.bigint() - t);
    }
  });
  const median = Float64Array.from(settles).sort()[operations >> 1];
  let ns = 0;
  for (const t of settles) ns += t > 10 * median ? median : t;
  const settle = ns / operations / 1000;
  return { answer: total - settle, settle };
}

function snapshotFor(n: number, model: RiskModel | undefined): PortfolioSnapshot {
  const huge = 1e15 as Currency;
  const budget: RiskBudget = {
    portfolioId: 'bench',
    asOf: '2026-01-05T00:00:00Z',
    regime: 'bull',
    volTarget: 0.1 as AnnualizedVol,
    forecastVol: 0.1 as AnnualizedVol,
    limits: {
      capital: 1e9 as Currency,
      grossLeverage: 1 as Leverage,
      maxGrossNotional: huge,
      maxNetNotional: huge,
      cashWeight: 0 as Fraction,
      maxOrderNotional: huge,
      priceCollar: 0.1 as Fraction,
    },
    strategies: STRATEGIES.map((s) => ({
      strategy: s,
      riskBudget: (1 / 3) as Fraction,
      capital: huge,
      maxGrossNotional: huge,
      maxNetNotional: huge,
    })),
    assets: Array.from({ length: n }, (_, i) => ({
      strategy: STRATEGIES[i % 3],
      asset: `A${i}`,
      targetWeight: (1 / n) as Fraction,
      targetNotional: huge,
      maxPositionNotional: huge,
      riskBudget: (1 / n) as Fraction,
      forecastVol: 0.2 as AnnualizedVol,
      referencePrice: 100 as Price,
    })),
    ...(model
      ? {
          riskLimits: {
            modelId: riskModelId(model),
            form: model.form,
            assetCount: n,
            volLimit: 10 as AnnualizedVol,
            riskBudgetTolerance: 1 as Fraction,
          },
        }
      : {}),
    diagnostics: {},
  };
  return buildSnapshot(
    { portfolioId: 'bench', version: 1, committedAt: new Date().toISOString(), budget },
    'ACTIVE',
    [],
    Date.now(),
    model,
  );
}

/** A seeded k-factor model: loadings ~ N(0, 0.1²), F = I·0.04 plus a common market factor, specific 1–5 %². */
function syntheticFactorModel(n: number, k: number, seed: number): FactorCovariance<'annualized'> {
  const rng = seededRng(seed);
  const loadings = Float64Array.from({ length: n * k }, (_, idx) => (idx % k === 0 ? 1 : 0) + 0.3 * rng.normal());
  const factorCovariance = new Float64Array(k * k);
  for (let j = 0; j < k; j++) factorCovariance[j * k + j] = j === 0 ? 0.03 : 0.005;
  const specificVariances = Float64Array.from({ length: n }, () => 0.01 + 0.04 * rng.uniform());
  return {
    unit: 'annualized',
    assets: Array.from({ length: n }, (_, i) => `A${i}`),
    factors: Array.from({ length: k }, (_, j) => `f${j}`),
    loadings,
    factorCovariance,
    specificVariances,
  };
}

/** CPU µs (user + system) per operation: the machine is shared, wall time would measure the neighbours. */
function cpuMicros(operations: number, fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / operations;
}
