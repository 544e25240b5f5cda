/** A small hand-made budget with round numbers so expected sizes can be worked out by hand. */
import type { RiskBudget } from '../../../../risk/budget';
import type { AnnualizedVol, Currency, Fraction, Leverage, Price } from '../../../../risk/units';
import type { OrderRequest } from '../../../../risk/pretrade/checks';
import { GateCore } from '../../../../grpc/gate';
import { buildSnapshot, type LimitOverride } from '../../../../risk/pretrade/snapshot';
import type { TradingState } from '../../../../risk/kinds';
import { ExposureBook } from '../../../../risk/pretrade/exposures';

const c = (x: number) => x as Currency;
const f = (x: number) => x as Fraction;

export const T0 = Date.parse('2026-01-05T12:00:00Z');

export function budget(portfolioId = 'p1'): RiskBudget {
  return {
    portfolioId,
    asOf: '2026-01-05T00:00:00Z',
    regime: 'bull',
    volTarget: 0.12 as AnnualizedVol,
    forecastVol: 0.11 as AnnualizedVol,
    limits: {
      capital: c(1_000_000),
      grossLeverage: 0.6 as Leverage,
      maxGrossNotional: c(600_000),
      maxNetNotional: c(450_000),
      cashWeight: f(0.4),
      maxOrderNotional: c(100_000),
      priceCollar: f(0.05),
    },
    strategies: [
      { strategy: 'trend', riskBudget: f(0.7), capital: c(420_000), maxGrossNotional: c(420_000), maxNetNotional: c(400_000) },
      { strategy: 'carry', riskBudget: f(0.3), capital: c(180_000), maxGrossNotional: c(180_000), maxNetNotional: c(180_000) },
    ],
    assets: [asset('trend', 'AAPL', 100, 200_000), asset('trend', 'MSFT', 200, 250_000), asset('carry', 'XOM', 50, 150_000)],
    diagnostics: {},
  };
}

function asset(strategy: string, name: string, ref: number, maxPos: number): RiskBudget['assets'][number] {
  return {
    strategy,
    asset: name,
    targetWeight: f(0.1),
    targetNotional: c(maxPos / 2),
    maxPositionNotional: c(maxPos),
    riskBudget: f(0.3),
    forecastVol: 0.2 as AnnualizedVol,
    referencePrice: ref as Price,
  };
}

export function snapshotOf(
  b: RiskBudget = budget(),
  opts: { version?: number; committedAtMs?: number; state?: TradingState; overrides?: LimitOverride[] } = {},
) {
  return buildSnapshot(
    { portfolioId: b.portfolioId, version: opts.version ?? 1, committedAt: new Date(opts.committedAtMs ?? T0).toISOString(), budget: b },
    opts.state ?? 'ACTIVE',
    opts.overrides ?? [],
  );
}

export function gateCore(clock: { now: number }, opts: { restricted?: string[] } = {}): GateCore {
  return new GateCore({
    policy: { staleReduceAfterMs: 3_600_000, staleHaltAfterMs: 4 * 3_600_000, restrictedInstruments: new Set(opts.restricted ?? []) },
    clock: () => clock.now,
    reservationTtlMs: 60_000,
    idMemoryMs: 86_400_000,
  });
}

let seq = 0;
export function order(o: Partial<OrderRequest> = {}): OrderRequest {
  return {
    portfolioId: 'p1',
    strategy: 'trend',
    instrument: 'AAPL',
    side: 'BUY',
    quantity: 100,
    price: 100,
    clientOrderId: `o-${++seq}`,
    ...o,
  };
}

let fillSeq = 0;
/** Reports an external fill of `qty` units (negative: a sell) straight to the core. */
export function fillInto(core: GateCore, strategy: string, instrument: string, qty: number, price: number): void {
  core.reportFill({
    portfolioId: 'p1',
    strategy,
    instrument,
    side: qty >= 0 ? 'BUY' : 'SELL',
    clientOrderId: `ext-${++fillSeq}`,
    fillId: `f-${fillSeq}`,
    quantity: Math.abs(qty),
    price,
    orderDone: true,
  });
}

/** A position already held in `book` (a done fill at T0), for the pure checks without a gate core. */
export function holding(book: ExposureBook, strategy: string, asset: string, qty: number, price: number): void {
  book.applyFill({
    strategy,
    asset,
    side: qty >= 0 ? 'BUY' : 'SELL',
    clientOrderId: 'x',
    fillId: '',
    quantity: Math.abs(qty),
    price,
    orderDone: true,
    nowMs: T0,
  });
}

/** The pairs the sizing property tests trade: strategy, instrument, reference price (in the fixture budget). */
export const PROPERTY_PAIRS = [
  ['trend', 'AAPL', 100],
  ['trend', 'MSFT', 200],
  ['carry', 'XOM', 50],
] as const;

/**
 * A book holding `positions[i]` of PROPERTY_PAIRS[i], with `reserved[i]` more working on alternate
 * sides (a sell on even pairs, a buy on odd ones): the random starting point of the property tests.
 */
export function propertyBook(positions: readonly number[], reserved: readonly number[]): ExposureBook {
  const book = new ExposureBook('p1');
  PROPERTY_PAIRS.forEach(([s, a, ref], i) => {
    holding(book, s, a, positions[i], ref);
    if (reserved[i] > 0) book.reserve(`r${i}`, s, a, i % 2 ? 'BUY' : 'SELL', reserved[i], ref, T0, 60_000);
  });
  return book;
}
