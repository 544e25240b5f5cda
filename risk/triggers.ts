/**
 * Rebalancing triggers: measurements that say "the committed budget or the book no longer fits".
 * Each trigger reports what it measured and the threshold it compared against, so an operator sees
 * why it fired (or how close it came). Pure: times and measurements are passed in.
 *
 * Conventions: a trigger fires when its value is strictly above its threshold (at the threshold it
 * does not), except the regime-change cooldown, which is satisfied once elapsed time reaches it.
 * Weights are fractions of capital (NAV) on both sides: actual notional / capital vs target notional /
 * capital, never book weights (which exclude the cash leg).
 */
import type { RiskBudget } from './budget';
import type { RebalancingTriggers } from './config';
import type { CovarianceMatrix } from './covariance';
import type { EngineTriggerKind } from './kinds';
import { portfolioVol } from './measures';
import { type AnnualizedVol, type Currency, type Fraction, type Milliseconds, fraction, weights } from './units';

export interface TriggerResult {
  readonly kind: EngineTriggerKind;
  readonly fired: boolean;
  readonly value: number;
  readonly threshold: number;
  readonly detail: string;
}

/** Current positions: asset → signed notional in base currency. */
export type Positions = Readonly<Record<string, Currency>>;

/** Target weights of capital per asset (summed over strategies): target notional / capital. */
export function targetWeightsOfCapital(budget: RiskBudget): Map<string, Fraction> {
  const out = new Map<string, Fraction>();
  for (const a of budget.assets) out.set(a.asset, fraction((out.get(a.asset) ?? 0) + a.targetNotional / budget.limits.capital));
  return out;
}

/** Actual weights of capital per asset: notional / capital. */
export function weightsOfCapital(positions: Positions, capital: Currency): Map<string, Fraction> {
  if (!(capital > 0)) throw new RangeError(`capital must be positive, got ${capital}`);
  return new Map(Object.entries(positions).map(([asset, notional]) => [asset, fraction(notional / capital)]));
}

/** Largest |actual − target| weight of capital over every asset held or targeted. */
export function driftTrigger(actual: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>, threshold: Fraction): TriggerResult {
  let worst = 0;
  let worstAsset = '';
  for (const asset of new Set([...actual.keys(), ...target.keys()])) {
    const drift = Math.abs((actual.get(asset) ?? 0) - (target.get(asset) ?? 0));
    if (drift > worst) [worst, worstAsset] = [drift, asset];
  }
  const detail = worstAsset
    ? `${worstAsset}: actual ${pct(actual.get(worstAsset) ?? 0)} vs target ${pct(target.get(worstAsset) ?? 0)} of capital`
    : 'no drift';
  return { kind: 'drift', fired: worst > threshold, value: worst, threshold, detail };
}

export interface RegimeChangeInput {
  readonly enabled: boolean;
  /** Regime of the committed budget (null when none is committed yet). */
  readonly committedRegime: string | null;
  readonly detectedRegime: string;
  /** Time of the last rebalance caused by a regime change (ms since epoch), null if never. */
  readonly lastRegimeRebalanceAtMs: number | null;
  readonly nowMs: number;
  readonly cooldown: Milliseconds;
}

/**
 * Fires when the detected regime differs from the committed one and the cooldown since the last
 * regime-driven rebalance has elapsed. Value = elapsed ms (Infinity when there was none), threshold =
 * cooldown. The cooldown stops an oscillating detector from churning the book.
 */
export function regimeChangeTrigger(input: RegimeChangeInput): TriggerResult {
  const changed = input.committedRegime !== null && input.committedRegime !== input.detectedRegime;
  const elapsed = input.lastRegimeRebalanceAtMs === null ? Number.POSITIVE_INFINITY : input.nowMs - input.lastRegimeRebalanceAtMs;
  const cooled = elapsed >= input.cooldown;
  const fired = input.enabled && changed && cooled;
  const detail = !changed
    ? `regime unchanged (${input.detectedRegime})`
    : `${input.committedRegime} → ${input.detectedRegime}${!input.enabled ? ', trigger disabled' : cooled ? '' : ', in cooldown'}`;
  return { kind: 'regime-change', fired, value: elapsed, threshold: input.cooldown, detail };
}

/** Fires when the average pairwise correlation is strictly above the spike level. */
export function correlationSpikeTrigger(averageCorrelation: number, spikeLevel: number): TriggerResult {
  return {
    kind: 'correlation-spike',
    fired: averageCorrelation > spikeLevel,
    value: averageCorrelation,
    threshold: spikeLevel,
    detail: `average pairwise correlation ${averageCorrelation.toFixed(3)} vs ${spikeLevel}`,
  };
}

/** Fires when realized vol is strictly above `multiple` × the vol target. Value and threshold are annualized vols. */
export function volBreachTrigger(realized: AnnualizedVol, target: AnnualizedVol, multiple: number): TriggerResult {
  const threshold = multiple * target;
  return {
    kind: 'vol-breach',
    fired: realized > threshold,
    value: realized,
    threshold,
    detail: `realized vol ${pct(realized)} vs ${multiple} × target ${pct(target)}`,
  };
}

/**
 * Utilization of every limit by the actual book: gross / max gross, |net| / max net, each position /
 * its max (positions summed over strategies against the summed limits), and, given a covariance, the
 * forecast vol of the actual positions / the vol target. Value = the worst ratio; fires strictly above
 * `tolerance` (1 = any excess). An asset held but absent from the budget counts as an infinite breach.
 */
export function budgetBreachTrigger(
  budget: RiskBudget,
  positions: Positions,
  tolerance: number,
  covariance?: CovarianceMatrix<'annualized'>,
): TriggerResult {
  const ratios = limitUtilizations(budget, positions, covariance);
  let [worstName, worst] = ['none', 0];
  for (const [name, ratio] of ratios) if (ratio > worst) [worstName, worst] = [name, ratio];
  return {
    kind: 'budget-breach',
    fired: worst > tolerance,
    value: worst,
    threshold: tolerance,
    detail: worst > 0 ? `${worstName} at ${pct(worst)} of its limit` : 'no exposure',
  };
}

/** Limit name → actual / limit. */
export function limitUtilizations(
  budget: RiskBudget,
  positions: Positions,
  covariance?: CovarianceMatrix<'annualized'>,
): Map<string, number> {
  const notionals = Object.values(positions);
  const gross = notionals.reduce((s, x) => s + Math.abs(x), 0);
  const net = notionals.reduce((s, x) => s + x, 0);
  const out = new Map<string, number>([
    ['gross exposure', ratio(gross, budget.limits.maxGrossNotional)],
    ['net exposure', ratio(Math.abs(net), budget.limits.maxNetNotional)],
  ]);
  const maxByAsset = new Map<string, number>();
  for (const a of budget.assets) maxByAsset.set(a.asset, (maxByAsset.get(a.asset) ?? 0) + a.maxPositionNotional);
  for (const [asset, notional] of Object.entries(positions))
    out.set(`position ${asset}`, ratio(Math.abs(notional), maxByAsset.get(asset) ?? 0));
  if (covariance) {
    const w = covariance.assets.map((a) => (positions[a] ?? 0) / budget.limits.capital);
    out.set('forecast vol', ratio(portfolioVol(covariance, weights(w)), budget.volTarget));
  }
  return out;
}

export interface TriggerInputs {
  readonly settings: RebalancingTriggers;
  readonly budget: RiskBudget;
  readonly positions: Positions;
  readonly regime: Omit<RegimeChangeInput, 'enabled' | 'cooldown' | 'committedRegime'>;
  readonly averageCorrelation: number;
  readonly realizedVol: AnnualizedVol;
  readonly covariance?: CovarianceMatrix<'annualized'>;
}

/** All five triggers against the committed budget, in a fixed order. */
export function evaluateTriggers(inputs: TriggerInputs): TriggerResult[] {
  const { settings, budget, positions } = inputs;
  return [
    driftTrigger(weightsOfCapital(positions, budget.limits.capital), targetWeightsOfCapital(budget), settings.driftThreshold),
    regimeChangeTrigger({
      ...inputs.regime,
      enabled: settings.regimeChange,
      cooldown: settings.regimeChangeCooldown,
      committedRegime: budget.regime,
    }),
    correlationSpikeTrigger(inputs.averageCorrelation, settings.correlationSpike),
    volBreachTrigger(inputs.realizedVol, budget.volTarget, settings.volBreach),
    budgetBreachTrigger(budget, positions, settings.budgetBreach, inputs.covariance),
  ];
}

/** actual / limit; a zero limit makes any exposure an infinite breach and no exposure no use. */
function ratio(actual: number, limit: number): number {
  if (limit > 0) return actual / limit;
  return actual > 0 ? Number.POSITIVE_INFINITY : 0;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
