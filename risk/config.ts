/**
 * Risk-budgeting configuration: the documented YAML schema (snake_case) validated into typed,
 * unit-carrying settings (camelCase). Validation is pure: it takes an already-parsed document and
 * either returns a complete config (defaults filled in) or throws a ConfigError naming the bad key.
 *
 * risk_budgeting:
 *   monitoring_interval: 60s            # duration: number of seconds or "500ms" / "60s" / "5m" / "1h"
 *   capital: 10000000                   # base-currency net asset value
 *   periods_per_year: 252               # annualization factor (252 equities, 365 crypto)
 *   lookback_days: 252                  # estimation window
 *   regime_allocations:                 # ordered calm → turbulent
 *     bull:    {equity_allocation: 1.0, leverage_limit: 1.5, vol_target: 0.12, max_position_share: 0.25}
 *     ...
 *   rebalancing_triggers: {drift_threshold: 0.05, regime_change: true, correlation_spike: 0.75, vol_breach: 1.5}
 *   covariance: {estimator: ledoit-wolf, ewma_lambda: 0.94, min_observations: 20}
 *   allocation: {method: erc, tolerance: 1e-10}
 *   regime_detection: {method: rule, vol_window: 21, states: 4, restarts: 5, seed: 1, threshold: 0.6, min_dwell: 3}
 *   leverage / correlation / strategies / gate / costs / approval: see DEFAULT_CONFIG_DOCUMENT
 *
 * `loadRiskConfigText` parses YAML text and validates it; config/ballast.example.yaml documents every key.
 */
import type { ReriskingPolicy } from './rerisking';
import { parseDocument } from 'yaml';
import { REGIME_METHODS, type RegimeMethod } from './kinds';
import {
  type AnnualizedVol,
  type Currency,
  type Fraction,
  type Leverage,
  type Milliseconds,
  type PeriodsPerYear,
  annualizedVol,
  currency,
  fraction,
  leverage,
  milliseconds,
  periodsPerYear,
} from './units';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config key "${key}": ${message}`);
  }
}

export interface RegimePolicy {
  readonly name: string;
  /** Share of capital allowed in risky assets; the rest is the cash leg. */
  readonly equityAllocation: Fraction;
  /** Hard cap on gross leverage in this regime. */
  readonly leverageLimit: Leverage;
  readonly volTarget: AnnualizedVol;
  /** Largest share of gross exposure any single asset may take. */
  readonly maxPositionShare: Fraction;
  /** Multipliers on strategy risk budgets in this regime (renormalized to sum to 1). */
  readonly strategyTilts: Readonly<Record<string, number>>;
  /** Rule classifier: the regime applies while annualized index vol is at or below this. */
  readonly maxVol: AnnualizedVol;
}

export interface StrategyConfig {
  readonly name: string;
  readonly riskBudget: Fraction;
  readonly assets: readonly string[];
}

export interface RebalancingTriggers {
  readonly driftThreshold: Fraction;
  readonly regimeChange: boolean;
  readonly regimeChangeCooldown: Milliseconds;
  /** Average pairwise correlation above which a correlation spike is declared. */
  readonly correlationSpike: number;
  /** Realized vol above volBreach × target declares a vol breach. */
  readonly volBreach: number;
  /** Actual exposure or risk above budgetBreach × its limit declares a budget breach (1 = any excess). */
  readonly budgetBreach: number;
}

/** Names follow risk/covariance.ts `CovarianceEstimator`. */
export const COVARIANCE_ESTIMATORS = ['sample', 'pairwise', 'ewma', 'ledoit-wolf', 'ledoit-wolf-cc'] as const;
export type CovarianceEstimatorName = (typeof COVARIANCE_ESTIMATORS)[number];

export interface CovarianceConfig {
  readonly estimator: CovarianceEstimatorName;
  /** EWMA decay per observation (RiskMetrics daily: 0.94); used when estimator = ewma. */
  readonly ewmaLambda: number;
  /** Fewest aligned returns a budget may be estimated from; fewer is a DataError. */
  readonly minObservations: number;
}

/** Within-strategy allocation: equal risk contribution, inverse volatility, or equal weight. */
export const ALLOCATION_METHODS = ['erc', 'inverse-vol', 'equal-weight'] as const;
export type AllocationMethod = (typeof ALLOCATION_METHODS)[number];

export interface AllocationConfig {
  readonly method: AllocationMethod;
  /** erc solver target: largest |risk contribution − budget| accepted as converged. */
  readonly tolerance: number;
}

export interface RegimeDetectionConfig {
  readonly method: RegimeMethod;
  /** Daily returns in the rule classifier's realized-vol window. */
  readonly volWindow: number;
  /** Price below its `trendWindow`-day mean raises the regime to at least `trendAtLeast` (rule only). */
  readonly trend: { readonly window: number; readonly atLeast: string } | null;
  /**
   * HMM states K, ordered calm → turbulent. K = number of regimes maps state k to regime k; otherwise
   * risk/regime/states.ts `stateRegimeNames` spreads the states over the regimes (calmest → first).
   */
  readonly states: number;
  /** HMM fitting: seeded restarts (best likelihood wins) and the seed, so a fit is reproducible. */
  readonly restarts: number;
  readonly seed: number;
  /** Hysteresis: probability a challenger regime needs, and consecutive observations before switching. */
  readonly threshold: number;
  readonly minDwell: number;
}

export interface RiskConfig {
  readonly monitoringInterval: Milliseconds;
  readonly capital: Currency;
  readonly periodsPerYear: PeriodsPerYear;
  readonly lookbackDays: number;
  readonly regimes: readonly RegimePolicy[];
  readonly triggers: RebalancingTriggers;
  readonly leverageFloor: Leverage;
  readonly leverageCap: Leverage;
  /** Largest change of gross leverage per rebalance. */
  readonly maxLeverageStep: Leverage;
  /** Weight on the previous leverage (0 = no smoothing). */
  readonly leverageSmoothing: Fraction;
  /** When average pairwise correlation exceeds the threshold, risk is multiplied by `scale`. */
  readonly correlation: { readonly threshold: number; readonly scale: Fraction };
  readonly strategies: readonly StrategyConfig[];
  readonly maxOrderShare: Fraction;
  readonly priceCollar: Fraction;
  /** Position and exposure limits sit this factor above their targets (1.1 = 10 % headroom for drift). */
  readonly limitHeadroom: number;
  /** The gate's hard limit on the book's ex-ante vol, as a multiple of the larger of the vol target and the budget's forecast vol. */
  readonly volLimitMultiple: number;
  /** Absolute share of the book's risk a strategy may carry above its risk budget before RISK_BUDGET. */
  readonly riskBudgetTolerance: Fraction;
  /** Estimated one-way transaction cost per traded notional, in basis points. */
  readonly transactionCostBps: number;
  readonly covariance: CovarianceConfig;
  readonly allocation: AllocationConfig;
  readonly regimeDetection: RegimeDetectionConfig;
  readonly approvalTimeout: Milliseconds;
  /** How fast risk may come back: step size and spacing of risk-increasing asks (risk/rerisking.ts). */
  readonly rerisking: ReriskingPolicy;
  /** Units per lot by instrument (`lot_sizes`): the budget carries them, SizePosition answers whole lots. */
  readonly lotSizes: Readonly<Record<string, number>>;
}

export const DEFAULT_CONFIG_DOCUMENT = {
  risk_budgeting: {
    monitoring_interval: '60s',
    capital: 10_000_000,
    periods_per_year: 252,
    lookback_days: 126,
    regime_allocations: {
      bull: { equity_allocation: 1.0, leverage_limit: 1.5, vol_target: 0.12, max_position_share: 0.3, max_vol: 0.16 },
      neutral: { equity_allocation: 0.9, leverage_limit: 1.2, vol_target: 0.1, max_position_share: 0.3, max_vol: 0.24 },
      bear: { equity_allocation: 0.7, leverage_limit: 1.0, vol_target: 0.08, max_position_share: 0.25, max_vol: 0.36 },
      crisis: { equity_allocation: 0.4, leverage_limit: 0.6, vol_target: 0.05, max_position_share: 0.2, max_vol: null },
    },
    rebalancing_triggers: {
      drift_threshold: 0.05,
      regime_change: true,
      regime_change_cooldown: '1d',
      correlation_spike: 0.75,
      vol_breach: 1.5,
      budget_breach: 1.0,
    },
    leverage: { floor: 0, cap: 2, max_step: 1, smoothing: 0 },
    correlation: { threshold: 0.75, scale: 0.8 },
    strategies: [],
    gate: { max_order_share: 0.05, price_collar: 0.1, limit_headroom: 1.1, vol_limit_multiple: 1.25, risk_budget_tolerance: 0.1 },
    costs: { transaction_bps: 5 },
    covariance: { estimator: 'ledoit-wolf', ewma_lambda: 0.94, min_observations: 20 },
    allocation: { method: 'erc', tolerance: 1e-10 },
    regime_detection: {
      method: 'rule',
      vol_window: 21,
      trend_window: null,
      trend_at_least: null,
      states: null,
      restarts: 5,
      seed: 1,
      threshold: 0.6,
      min_dwell: 3,
    },
    approval: { timeout: '1h', max_gross_step_up: 0.5, min_proposal_spacing: '15m' },
    lot_sizes: {},
  },
} as const;

type Doc = Record<string, unknown>;

export function parseRiskConfig(document: unknown): RiskConfig {
  const root = asObject(document ?? {}, '(root)');
  checkKnownKeys(root, ['risk_budgeting'], '');
  const rb = asObject(root.risk_budgeting ?? {}, 'risk_budgeting');
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting;
  checkKnownKeys(rb, Object.keys(d), 'risk_budgeting');
  const section = (name: keyof typeof d): Doc => {
    const o = asObject(rb[name] ?? {}, k(name));
    checkKnownKeys(o, Object.keys(d[name]), k(name));
    return o;
  };

  const regimesDoc = asObject(rb.regime_allocations ?? d.regime_allocations, k('regime_allocations'));
  const regimes = Object.entries(regimesDoc).map(([name, v]) => parseRegime(name, v, k(`regime_allocations.${name}`)));
  if (regimes.length === 0) throw new ConfigError(k('regime_allocations'), 'at least one regime is required');

  const lev = section('leverage');
  const leverageFloor = leverage(num(lev.floor ?? d.leverage.floor, k('leverage.floor'), 0));
  const leverageCap = leverage(num(lev.cap ?? d.leverage.cap, k('leverage.cap'), 0));
  if (leverageCap < leverageFloor) throw new ConfigError(k('leverage.cap'), `must be >= leverage.floor (${leverageFloor})`);
  checkFloorBelowRegimeCaps(leverageFloor, regimes);

  const strategies = parseStrategies(rb.strategies ?? d.strategies, k('strategies'));
  checkTilts(regimes, strategies);
  const lookbackDays = int(rb.lookback_days ?? d.lookback_days, k('lookback_days'), 2);
  const covariance = parseCovariance(section('covariance'));
  if (covariance.minObservations > lookbackDays) {
    throw new ConfigError(
      k('covariance.min_observations'),
      `${covariance.minObservations} exceeds lookback_days (${lookbackDays}): no window could be budgeted`,
    );
  }
  const corr = section('correlation');
  const gate = section('gate');
  const costs = section('costs');
  const approval = section('approval');

  return {
    monitoringInterval: duration(rb.monitoring_interval ?? d.monitoring_interval, k('monitoring_interval')),
    capital: currency(num(rb.capital ?? d.capital, k('capital'), Number.MIN_VALUE)),
    periodsPerYear: periodsPerYear(int(rb.periods_per_year ?? d.periods_per_year, k('periods_per_year'), 1)),
    lookbackDays,
    regimes,
    triggers: parseTriggers(section('rebalancing_triggers')),
    leverageFloor,
    leverageCap,
    maxLeverageStep: leverage(num(lev.max_step ?? d.leverage.max_step, k('leverage.max_step'), Number.MIN_VALUE)),
    leverageSmoothing: fraction(num(lev.smoothing ?? d.leverage.smoothing, k('leverage.smoothing'), 0, 0.999)),
    correlation: {
      threshold: num(corr.threshold ?? d.correlation.threshold, k('correlation.threshold'), -1, 1),
      scale: fraction(num(corr.scale ?? d.correlation.scale, k('correlation.scale'), 0, 1)),
    },
    strategies,
    maxOrderShare: fraction(num(gate.max_order_share ?? d.gate.max_order_share, k('gate.max_order_share'), Number.MIN_VALUE, 1)),
    priceCollar: fraction(num(gate.price_collar ?? d.gate.price_collar, k('gate.price_collar'), Number.MIN_VALUE, 1)),
    limitHeadroom: num(gate.limit_headroom ?? d.gate.limit_headroom, k('gate.limit_headroom'), 1, 10),
    volLimitMultiple: num(gate.vol_limit_multiple ?? d.gate.vol_limit_multiple, k('gate.vol_limit_multiple'), 1, 10),
    riskBudgetTolerance: fraction(num(gate.risk_budget_tolerance ?? d.gate.risk_budget_tolerance, k('gate.risk_budget_tolerance'), 0, 1)),
    transactionCostBps: num(costs.transaction_bps ?? d.costs.transaction_bps, k('costs.transaction_bps'), 0, 10_000),
    covariance,
    allocation: parseAllocation(section('allocation')),
    regimeDetection: checkRuleOrder(parseRegimeDetection(section('regime_detection'), regimes), regimes),
    approvalTimeout: duration(approval.timeout ?? d.approval.timeout, k('approval.timeout')),
    rerisking: {
      // null lifts the cap (every proposal asked whole); absent takes the default.
      maxGrossStepUp:
        approval.max_gross_step_up === null
          ? null
          : num(approval.max_gross_step_up ?? d.approval.max_gross_step_up, k('approval.max_gross_step_up'), Number.MIN_VALUE, 100),
      minSpacingMs: duration(approval.min_proposal_spacing ?? d.approval.min_proposal_spacing, k('approval.min_proposal_spacing')),
    },
    lotSizes: parseLotSizes(rb.lot_sizes ?? d.lot_sizes, k('lot_sizes')),
  };
}

/** `lot_sizes: {ES: 50, AAPL: 1}`: instrument → units per lot (> 0). */
function parseLotSizes(value: unknown, key: string): Record<string, number> {
  const o = asObject(value, key);
  return Object.fromEntries(
    Object.entries(o).map(([instrument, lot]) => [instrument, num(lot, `${key}.${instrument}`, Number.MIN_VALUE, 1e9)]),
  );
}

/**
 * Parses YAML text and validates it. Pure: no file access. YAML syntax errors and duplicate keys
 * become a ConfigError with the line number; an empty document gives the defaults.
 */
export function loadRiskConfigText(yamlText: string): RiskConfig {
  return parseRiskConfig(parseYamlText(yamlText));
}

/** YAML text to plain data; a syntax error or a duplicate key is a ConfigError with its line and column. */
export function parseYamlText(yamlText: string): unknown {
  const doc = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const message = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('(yaml)', at ? `line ${at.line}, column ${at.col}: ${message}` : message);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

export const defaultRiskConfig = (): RiskConfig => parseRiskConfig(DEFAULT_CONFIG_DOCUMENT);

const k = (s: string): string => `risk_budgeting.${s}`;

function parseTriggers(trig: Doc): RebalancingTriggers {
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting.rebalancing_triggers;
  const key = (s: string) => k(`rebalancing_triggers.${s}`);
  return {
    driftThreshold: fraction(num(trig.drift_threshold ?? d.drift_threshold, key('drift_threshold'), 0, 1)),
    regimeChange: bool(trig.regime_change ?? d.regime_change, key('regime_change')),
    regimeChangeCooldown: duration(trig.regime_change_cooldown ?? d.regime_change_cooldown, key('regime_change_cooldown')),
    correlationSpike: num(trig.correlation_spike ?? d.correlation_spike, key('correlation_spike'), -1, 1),
    volBreach: num(trig.vol_breach ?? d.vol_breach, key('vol_breach'), 1),
    budgetBreach: num(trig.budget_breach ?? d.budget_breach, key('budget_breach'), 1),
  };
}

function parseCovariance(o: Doc): CovarianceConfig {
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting.covariance;
  return {
    estimator: oneOf(o.estimator ?? d.estimator, COVARIANCE_ESTIMATORS, k('covariance.estimator')),
    // λ = 1 would weight the oldest return like the newest and λ ≤ 0 is meaningless.
    ewmaLambda: openInterval(num(o.ewma_lambda ?? d.ewma_lambda, k('covariance.ewma_lambda')), 0, 1, k('covariance.ewma_lambda')),
    minObservations: int(o.min_observations ?? d.min_observations, k('covariance.min_observations'), 2),
  };
}

function parseAllocation(o: Doc): AllocationConfig {
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting.allocation;
  return {
    method: oneOf(o.method ?? d.method, ALLOCATION_METHODS, k('allocation.method')),
    tolerance: openInterval(num(o.tolerance ?? d.tolerance, k('allocation.tolerance')), 0, 1, k('allocation.tolerance')),
  };
}

function parseRegimeDetection(o: Doc, regimes: readonly RegimePolicy[]): RegimeDetectionConfig {
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting.regime_detection;
  const key = (s: string) => k(`regime_detection.${s}`);
  const names = regimes.map((r) => r.name);
  const trendWindow = o.trend_window ?? d.trend_window;
  const trendAtLeast = o.trend_at_least ?? d.trend_at_least;
  if ((trendWindow === null) !== (trendAtLeast === null)) {
    throw new ConfigError(
      key(trendWindow === null ? 'trend_window' : 'trend_at_least'),
      'trend_window and trend_at_least must be set together',
    );
  }
  return {
    method: oneOf(o.method ?? d.method, REGIME_METHODS, key('method')),
    volWindow: int(o.vol_window ?? d.vol_window, key('vol_window'), 2),
    trend:
      trendWindow === null
        ? null
        : { window: int(trendWindow, key('trend_window'), 2), atLeast: oneOf(trendAtLeast, names, key('trend_at_least')) },
    states: int(o.states ?? d.states ?? regimes.length, key('states'), 2),
    restarts: int(o.restarts ?? d.restarts, key('restarts'), 1),
    seed: int(o.seed ?? d.seed, key('seed'), 0),
    threshold: num(o.threshold ?? d.threshold, key('threshold'), Number.MIN_VALUE, 1),
    minDwell: int(o.min_dwell ?? d.min_dwell, key('min_dwell'), 1),
  };
}

/** The rule classifier picks the first regime whose max_vol covers realized vol, so max_vol must not decrease. */
function checkRuleOrder(detection: RegimeDetectionConfig, regimes: readonly RegimePolicy[]): RegimeDetectionConfig {
  if (detection.method !== 'rule') return detection;
  for (let i = 1; i < regimes.length; i++) {
    const [before, here] = [regimes[i - 1], regimes[i]];
    if (here.maxVol < before.maxVol) {
      const bound = Number.isFinite(before.maxVol) ? `${before.name} has ${before.maxVol}` : `${before.name} has none`;
      throw new ConfigError(
        k(`regime_allocations.${here.name}.max_vol`),
        `regimes are ordered calm → turbulent, so max_vol must not decrease (${bound})`,
      );
    }
  }
  return detection;
}

/** A floor above a regime's cap could never be met; say so at load time rather than budget time. */
function checkFloorBelowRegimeCaps(floor: Leverage, regimes: readonly RegimePolicy[]): void {
  for (const r of regimes) {
    const cap = Math.min(r.leverageLimit, r.equityAllocation);
    if (floor > cap)
      throw new ConfigError(
        k('leverage.floor'),
        `${floor} is above regime "${r.name}"'s cap ${cap} (min of leverage_limit and equity_allocation)`,
      );
  }
}

function checkTilts(regimes: readonly RegimePolicy[], strategies: readonly StrategyConfig[]): void {
  const names = strategies.length > 0 ? strategies.map((s) => s.name) : ['core'];
  for (const r of regimes) {
    for (const s of Object.keys(r.strategyTilts)) {
      if (!names.includes(s))
        throw new ConfigError(
          k(`regime_allocations.${r.name}.strategy_tilts.${s}`),
          `no strategy named "${s}" (have: ${names.join(', ')})`,
        );
    }
    if (Object.keys(r.strategyTilts).length > 0 && names.every((s) => (r.strategyTilts[s] ?? 1) === 0)) {
      throw new ConfigError(k(`regime_allocations.${r.name}.strategy_tilts`), 'tilts switch every strategy off');
    }
  }
}

/** Regime policy by name; throws when the name is not configured. */
export function regimePolicy(config: RiskConfig, name: string): RegimePolicy {
  const policy = config.regimes.find((r) => r.name === name);
  if (!policy) throw new ConfigError('risk_budgeting.regime_allocations', `no regime named "${name}"`);
  return policy;
}

function parseRegime(name: string, value: unknown, key: string): RegimePolicy {
  const o = asObject(value, key);
  checkKnownKeys(o, ['equity_allocation', 'leverage_limit', 'vol_target', 'max_position_share', 'strategy_tilts', 'max_vol'], key);
  const tilts = asObject(o.strategy_tilts ?? {}, `${key}.strategy_tilts`);
  return {
    name,
    equityAllocation: fraction(num(required(o, 'equity_allocation', key), `${key}.equity_allocation`, 0, 1)),
    leverageLimit: leverage(num(required(o, 'leverage_limit', key), `${key}.leverage_limit`, 0)),
    volTarget: annualizedVol(num(required(o, 'vol_target', key), `${key}.vol_target`, Number.MIN_VALUE, 5)),
    maxPositionShare: fraction(num(o.max_position_share ?? 1, `${key}.max_position_share`, Number.MIN_VALUE, 1)),
    strategyTilts: Object.fromEntries(Object.entries(tilts).map(([s, t]) => [s, num(t, `${key}.strategy_tilts.${s}`, 0)])),
    maxVol: annualizedVol(o.max_vol === null || o.max_vol === undefined ? Number.POSITIVE_INFINITY : num(o.max_vol, `${key}.max_vol`, 0)),
  };
}

function parseStrategies(value: unknown, key: string): StrategyConfig[] {
  if (!Array.isArray(value)) throw new ConfigError(key, 'must be a list');
  const strategies = value.map((v, i) => {
    const o = asObject(v, `${key}[${i}]`);
    checkKnownKeys(o, ['name', 'budget', 'assets'], `${key}[${i}]`);
    const name = o.name;
    if (typeof name !== 'string' || name === '') throw new ConfigError(`${key}[${i}].name`, 'must be a non-empty string');
    const assets = o.assets;
    if (!Array.isArray(assets) || assets.length === 0 || !assets.every((a) => typeof a === 'string')) {
      throw new ConfigError(`${key}[${i}].assets`, 'must be a non-empty list of asset names');
    }
    return { name, riskBudget: fraction(num(o.budget, `${key}[${i}].budget`, Number.MIN_VALUE, 1)), assets: assets as string[] };
  });
  const dupe = strategies.find((s, i) => strategies.findIndex((t) => t.name === s.name) !== i);
  if (dupe) throw new ConfigError(key, `duplicate strategy name "${dupe.name}"`);
  if (strategies.length > 0) {
    const total = strategies.reduce((s, x) => s + x.riskBudget, 0);
    if (Math.abs(total - 1) > 1e-9) throw new ConfigError(key, `strategy budgets must sum to 1, got ${total}`);
  }
  return strategies;
}

function asObject(value: unknown, key: string): Doc {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, 'must be a mapping');
  return value as Doc;
}

function checkKnownKeys(o: Doc, known: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new ConfigError(where ? `${where}.${key}` : key, `unknown key (expected one of: ${known.join(', ')})`);
    }
  }
}

function required(o: Doc, name: string, key: string): unknown {
  if (o[name] === undefined) throw new ConfigError(`${key}.${name}`, 'is required');
  return o[name];
}

function num(value: unknown, key: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(key, `must be a finite number, got ${JSON.stringify(value)}`);
  if (value < min || value > max) throw new ConfigError(key, `must be in [${min}, ${max}], got ${value}`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function openInterval(value: number, lo: number, hi: number, key: string): number {
  if (!(value > lo && value < hi)) throw new ConfigError(key, `must be strictly between ${lo} and ${hi}, got ${value}`);
  return value;
}

function int(value: unknown, key: string, min: number): number {
  const n = num(value, key, min);
  if (!Number.isInteger(n)) throw new ConfigError(key, `must be an integer, got ${n}`);
  return n;
}

function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(key, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Durations: a number of seconds, or a string like "500ms", "60s", "5m", "1h", "1d". */
export function duration(value: unknown, key: string): Milliseconds {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return milliseconds(value * 1000);
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim()) : null;
  if (!m || Number(m[1]) <= 0)
    throw new ConfigError(key, `must be a positive duration like "60s", "5m" or a number of seconds, got ${JSON.stringify(value)}`);
  return milliseconds(Number(m[1]) * DURATION_UNITS[m[2]]);
}
