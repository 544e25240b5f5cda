/**
 * Regime policy: the pieces of the budget that depend on the regime and on the config rather than on
 * estimation. Pure functions, shared by the engine, the triggers and the tests.
 */
import type { RegimePolicy, RiskConfig, StrategyConfig } from './config';
import { type Fraction, type Leverage, fraction, leverage } from './units';

/** A strategy as the engine uses it: its assets and its (regime-tilted) share of portfolio risk. */
export interface ResolvedStrategy {
  readonly name: string;
  readonly riskBudget: Fraction;
  readonly assets: readonly string[];
}

/** Name of the single strategy used when the config lists none. */
export const DEFAULT_STRATEGY = 'core';

/**
 * The strategies to budget: the configured ones, or one "core" strategy holding every asset of the
 * price table when none are configured. Throws when a configured asset has no price column.
 */
export function resolveStrategies(strategies: readonly StrategyConfig[], universe: readonly string[]): StrategyConfig[] {
  if (strategies.length === 0) return [{ name: DEFAULT_STRATEGY, riskBudget: fraction(1), assets: [...universe] }];
  for (const s of strategies) {
    const missing = s.assets.filter((a) => !universe.includes(a));
    if (missing.length > 0) throw new RangeError(`strategy "${s.name}" lists assets with no prices: ${missing.join(', ')}`);
  }
  return [...strategies];
}

/**
 * Strategy risk budgets after the regime's tilts: budget × tilt (tilt 1 when not listed), renormalized
 * to sum to 1. A tilt of 0 switches a strategy off in that regime; all tilts 0 is a config error.
 */
export function tiltedBudgets(strategies: readonly StrategyConfig[], policy: RegimePolicy): ResolvedStrategy[] {
  const raw = strategies.map((s) => s.riskBudget * (policy.strategyTilts[s.name] ?? 1));
  const total = raw.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError(`regime "${policy.name}" tilts every strategy budget to zero`);
  return strategies.map((s, i) => ({ name: s.name, assets: s.assets, riskBudget: fraction(raw[i] / total) }));
}

/**
 * Regime cap on gross leverage. `equity_allocation` is the share of capital given to the risky sleeve
 * (the rest is the cash leg) and `leverage_limit` is how far that sleeve may be levered, so
 * gross ≤ equity_allocation × leverage_limit: bull 1.0 × 1.5 = 1.5, crisis 0.4 × 0.6 = 0.24 by default.
 * (Taking the smaller of the two instead would make every leverage_limit above 1 dead configuration.)
 */
export function regimeLeverageCap(policy: RegimePolicy): Leverage {
  return leverage(policy.equityAllocation * policy.leverageLimit);
}

/** Cash share of capital: 1 − gross when gross < 1, else 0 (leverage above 1 is financed, not cash). */
export const cashWeight = (gross: Leverage): Fraction => fraction(Math.max(0, 1 - gross));

export interface CorrelationScaling {
  readonly averageCorrelation: number;
  readonly applied: boolean;
  /** Multiplier on leverage: config.correlation.scale when applied, else 1. */
  readonly scale: Fraction;
}

/** Scale risk down when average correlation is strictly above the threshold (diversification is failing). */
export function correlationScaling(averageCorrelation: number, settings: RiskConfig['correlation']): CorrelationScaling {
  const applied = averageCorrelation > settings.threshold;
  return { averageCorrelation, applied, scale: applied ? settings.scale : fraction(1) };
}

/**
 * Cap every weight at `maxShare` of the book and give the excess to the uncapped weights in proportion
 * to their size (repeated until nothing exceeds the cap), so the book stays fully allocated. A share
 * of the book below 1/n cannot hold for n positions (shrinking one weight only raises the others'
 * shares), so the effective cap is max(maxShare, 1/n), which ends at equal weights; `feasible` says
 * whether the configured cap held. Weights are non-negative book fractions summing to 1.
 */
export function capWeights(w: readonly number[], maxShare: number): { weights: number[]; capped: number; feasible: boolean } {
  const positions = w.filter((x) => x > 0).length;
  const cap = Math.max(maxShare, positions > 0 ? 1 / positions : 1);
  const out = [...w];
  const atCap = new Set<number>();
  for (let round = 0; round < out.length; round++) {
    const over = out.map((x, i) => (x > cap * (1 + 1e-12) ? i : -1)).filter((i) => i >= 0);
    if (over.length === 0) break;
    let excess = 0;
    for (const i of over) {
      excess += out[i] - cap;
      out[i] = cap;
      atCap.add(i);
    }
    const free = out.map((_, i) => i).filter((i) => !atCap.has(i) && out[i] > 0);
    const freeTotal = free.reduce((s, i) => s + out[i], 0);
    if (freeTotal <= 0) break;
    for (const i of free) out[i] += (excess * out[i]) / freeTotal;
  }
  return { weights: out, capped: atCap.size, feasible: cap === maxShare };
}
