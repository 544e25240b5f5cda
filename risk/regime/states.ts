/**
 * Naming HMM states and reporting them in annualized units.
 *
 * Naming rule: states are ordered calm → turbulent (by the variance of the first feature).
 * - With configured regimes (`risk_budgeting.regime_allocations`, also calm → turbulent): when K equals
 *   the number of regimes, state k is regime k. Otherwise state k maps to regime round(k·(R−1)/(K−1)),
 *   so the calmest state is always the first regime and the most turbulent always the last
 *   (K = 2 over bull/neutral/bear/crisis: calm → bull, turbulent → crisis). K = 1 maps to the first.
 * - Without configuration: K = 2 → calm, turbulent; K = 3 → calm, neutral, turbulent;
 *   K = 4 → bull, neutral, bear, crisis; otherwise state-1 … state-K.
 */
import { type AnnualizedVol, type PeriodsPerYear, annualizeVol, dailyVol } from '../units';
import type { GaussianHmm } from './hmm';

export function defaultStateNames(states: number): string[] {
  if (states === 2) return ['calm', 'turbulent'];
  if (states === 3) return ['calm', 'neutral', 'turbulent'];
  if (states === 4) return ['bull', 'neutral', 'bear', 'crisis'];
  return Array.from({ length: states }, (_, i) => `state-${i + 1}`);
}

/** Regime name for each state, following the rule above. */
export function stateRegimeNames(states: number, regimes: readonly string[]): string[] {
  if (regimes.length === 0) throw new RangeError('at least one regime name is required');
  if (states === regimes.length) return [...regimes];
  return Array.from({ length: states }, (_, k) => regimes[states === 1 ? 0 : Math.round((k * (regimes.length - 1)) / (states - 1))]);
}

export interface StateSummary {
  readonly name: string;
  /** Mean daily log return × periods per year. */
  readonly meanAnnual: number;
  readonly volAnnual: AnnualizedVol;
}

/** Annualized mean and vol of the first feature (daily log returns) in each state. */
export function describeStates(
  model: GaussianHmm,
  periods: PeriodsPerYear,
  names = defaultStateNames(model.initial.length),
): StateSummary[] {
  return model.means.map((mean, k) => ({
    name: names[k],
    meanAnnual: mean[0] * periods,
    volAnnual: annualizeVol(dailyVol(Math.sqrt(model.variances[k][0])), periods),
  }));
}
