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
 */
import { type AnnualizedVol, type Currency, type Fraction, type Leverage, type Milliseconds, type PeriodsPerYear, annualizedVol, currency, fraction, leverage, milliseconds, periodsPerYear } from './units';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly key: string, message: string) {
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
  readonly approvalTimeout: Milliseconds;
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
    rebalancing_triggers: { drift_threshold: 0.05, regime_change: true, regime_change_cooldown: '1d', correlation_spike: 0.75, vol_breach: 1.5 },
    leverage: { floor: 0, cap: 2, max_step: 1, smoothing: 0 },
    correlation: { threshold: 0.75, scale: 0.8 },
    strategies: [],
    gate: { max_order_share: 0.05, price_collar: 0.1 },
    approval: { timeout: '1h' },
  },
} as const;

type Doc = Record<string, unknown>;

export function parseRiskConfig(document: unknown): RiskConfig {
  const root = asObject(document ?? {}, '(root)');
  checkKnownKeys(root, ['risk_budgeting'], '');
  const rb = asObject(root.risk_budgeting ?? {}, 'risk_budgeting');
  const d = DEFAULT_CONFIG_DOCUMENT.risk_budgeting;
  const k = (s: string) => `risk_budgeting.${s}`;
  checkKnownKeys(rb, Object.keys(d), 'risk_budgeting');

  const regimesDoc = asObject(rb.regime_allocations ?? d.regime_allocations, k('regime_allocations'));
  const regimes = Object.entries(regimesDoc).map(([name, v]) => parseRegime(name, v, k(`regime_allocations.${name}`)));
  if (regimes.length === 0) throw new ConfigError(k('regime_allocations'), 'at least one regime is required');

  const trig = asObject(rb.rebalancing_triggers ?? {}, k('rebalancing_triggers'));
  checkKnownKeys(trig, Object.keys(d.rebalancing_triggers), k('rebalancing_triggers'));
  const lev = asObject(rb.leverage ?? {}, k('leverage'));
  checkKnownKeys(lev, Object.keys(d.leverage), k('leverage'));
  const corr = asObject(rb.correlation ?? {}, k('correlation'));
  checkKnownKeys(corr, Object.keys(d.correlation), k('correlation'));
  const gate = asObject(rb.gate ?? {}, k('gate'));
  checkKnownKeys(gate, Object.keys(d.gate), k('gate'));
  const approval = asObject(rb.approval ?? {}, k('approval'));
  checkKnownKeys(approval, Object.keys(d.approval), k('approval'));

  const leverageFloor = leverage(num(lev.floor ?? d.leverage.floor, k('leverage.floor'), 0));
  const leverageCap = leverage(num(lev.cap ?? d.leverage.cap, k('leverage.cap'), 0));
  if (leverageCap < leverageFloor) throw new ConfigError(k('leverage.cap'), `must be >= leverage.floor (${leverageFloor})`);

  return {
    monitoringInterval: duration(rb.monitoring_interval ?? d.monitoring_interval, k('monitoring_interval')),
    capital: currency(num(rb.capital ?? d.capital, k('capital'), Number.MIN_VALUE)),
    periodsPerYear: periodsPerYear(int(rb.periods_per_year ?? d.periods_per_year, k('periods_per_year'), 1)),
    lookbackDays: int(rb.lookback_days ?? d.lookback_days, k('lookback_days'), 2),
    regimes,
    triggers: {
      driftThreshold: fraction(num(trig.drift_threshold ?? d.rebalancing_triggers.drift_threshold, k('rebalancing_triggers.drift_threshold'), 0, 1)),
      regimeChange: bool(trig.regime_change ?? d.rebalancing_triggers.regime_change, k('rebalancing_triggers.regime_change')),
      regimeChangeCooldown: duration(trig.regime_change_cooldown ?? d.rebalancing_triggers.regime_change_cooldown, k('rebalancing_triggers.regime_change_cooldown')),
      correlationSpike: num(trig.correlation_spike ?? d.rebalancing_triggers.correlation_spike, k('rebalancing_triggers.correlation_spike'), -1, 1),
      volBreach: num(trig.vol_breach ?? d.rebalancing_triggers.vol_breach, k('rebalancing_triggers.vol_breach'), 1),
    },
    leverageFloor,
    leverageCap,
    maxLeverageStep: leverage(num(lev.max_step ?? d.leverage.max_step, k('leverage.max_step'), Number.MIN_VALUE)),
    leverageSmoothing: fraction(num(lev.smoothing ?? d.leverage.smoothing, k('leverage.smoothing'), 0, 0.999)),
    correlation: {
      threshold: num(corr.threshold ?? d.correlation.threshold, k('correlation.threshold'), -1, 1),
      scale: fraction(num(corr.scale ?? d.correlation.scale, k('correlation.scale'), 0, 1)),
    },
    strategies: parseStrategies(rb.strategies ?? d.strategies, k('strategies')),
    maxOrderShare: fraction(num(gate.max_order_share ?? d.gate.max_order_share, k('gate.max_order_share'), Number.MIN_VALUE, 1)),
    priceCollar: fraction(num(gate.price_collar ?? d.gate.price_collar, k('gate.price_collar'), Number.MIN_VALUE, 1)),
    approvalTimeout: duration(approval.timeout ?? d.approval.timeout, k('approval.timeout')),
  };
}

export const defaultRiskConfig = (): RiskConfig => parseRiskConfig(DEFAULT_CONFIG_DOCUMENT);

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
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(key, `must be a finite number, got ${JSON.stringify(value)}`);
  if (value < min || value > max) throw new ConfigError(key, `must be in [${min}, ${max}], got ${value}`);
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
  if (!m || Number(m[1]) <= 0) throw new ConfigError(key, `must be a positive duration like "60s", "5m" or a number of seconds, got ${JSON.stringify(value)}`);
  return milliseconds(Number(m[1]) * DURATION_UNITS[m[2]]);
}
