/**
 * A deterministic, seeded synthetic market: daily-like bars for a few assets driven by a one-factor
 * model whose volatility and correlation depend on the regime in force at each bar. Any bar can be
 * generated from (seed, bar index, regime schedule) alone, so every worker — including one started
 * after a crash — sees exactly the same history. The schedule is append-only: a switch applies from
 * the bar after the one current when it was ordered, so the past never changes.
 */
import type { RegimeSwitch, SyntheticRegime } from '../db/stores/marketFeeds';
import type { PriceTable } from '../risk/timeseries';

/** Per-bar (daily) return model for each regime. */
const REGIME_MODEL: Record<SyntheticRegime, { factorVol: number; idioVol: number; drift: number }> = {
  // ≈ 13 % annualized asset vol, average pairwise correlation ≈ 0.3
  calm: { factorVol: 0.0045, idioVol: 0.0068, drift: 0.0003 },
  // ≈ 75 % annualized asset vol, average pairwise correlation ≈ 0.85
  crisis: { factorVol: 0.043, idioVol: 0.018, drift: -0.002 },
};

export interface SyntheticFeedSpec {
  readonly seed: number;
  readonly assets: readonly string[];
  /** Sorted by fromBar; the first entry must start at bar 0. */
  readonly schedule: readonly RegimeSwitch[];
  readonly startPrice?: number;
}

export function regimeAt(schedule: readonly RegimeSwitch[], bar: number): SyntheticRegime {
  let regime: SyntheticRegime = 'calm';
  for (const s of schedule) {
    if (s.fromBar > bar) break;
    regime = s.regime;
  }
  return regime;
}

/** Counter-based uniform in (0, 1): a stateless hash of (seed, bar, stream), so bars are random-access. */
function uniform(seed: number, bar: number, stream: number): number {
  let h = (seed ^ Math.imul(bar + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return (h + 0.5) / 4294967296;
}

function normal(seed: number, bar: number, stream: number): number {
  // Box–Muller on two independent streams.
  const u1 = uniform(seed, bar, 2 * stream);
  const u2 = uniform(seed, bar, 2 * stream + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Simple returns of every asset at one bar. */
export function barReturns(spec: SyntheticFeedSpec, bar: number): number[] {
  const model = REGIME_MODEL[regimeAt(spec.schedule, bar)];
  const factor = normal(spec.seed, bar, 0);
  return spec.assets.map((_, i) => {
    const betaTilt = 0.8 + 0.1 * i; // distinct betas so assets are not interchangeable
    const logReturn = model.drift + betaTilt * model.factorVol * factor + model.idioVol * normal(spec.seed, bar, i + 1);
    return Math.expm1(logReturn);
  });
}

/**
 * Generates prices for bars [0, lastBar]. Callers that advance bar by bar keep a `SyntheticPriceCache`
 * instead of regenerating from bar 0.
 */
export class SyntheticPriceCache {
  private readonly levels: number[][] = [];

  constructor(private readonly spec: SyntheticFeedSpec) {
    this.levels.push(spec.assets.map(() => spec.startPrice ?? 100));
  }

  pricesAt(bar: number): readonly number[] {
    while (this.levels.length <= bar) {
      const next = this.levels.length;
      const prev = this.levels[next - 1];
      const r = barReturns(this.spec, next);
      this.levels.push(prev.map((p, i) => p * (1 + r[i])));
    }
    return this.levels[bar];
  }

  /** The `length` bars ending at `lastBar` (inclusive) as a price table with synthetic dates. */
  window(lastBar: number, length: number): PriceTable {
    const first = Math.max(0, lastBar - length + 1);
    const rows: (readonly number[])[] = [];
    const dates: string[] = [];
    for (let b = first; b <= lastBar; b++) {
      rows.push(this.pricesAt(b));
      dates.push(barDate(b));
    }
    return { dates, assets: [...this.spec.assets], series: this.spec.assets.map((_, i) => Float64Array.from(rows, (r) => r[i])) };
  }
}

/** Synthetic bars are labelled as consecutive calendar days from 2000-01-01 (bar 0). */
export function barDate(bar: number): string {
  return new Date(Date.UTC(2000, 0, 1) + bar * 86_400_000).toISOString().slice(0, 10);
}
