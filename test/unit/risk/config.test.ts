import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ConfigError,
  DEFAULT_CONFIG_DOCUMENT,
  defaultRiskConfig,
  loadRiskConfigText,
  parseRiskConfig,
  regimePolicy,
} from '../../../risk/config';

const EXAMPLE = path.resolve(__dirname, '../../../config/ballast.example.yaml');

/** The error a config throws, so tests can assert both the key and the message. */
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const yamlError = (text: string) => errorOf(() => loadRiskConfigText(text));
/** A document with `risk_budgeting` overridden by `patch` (shallow, per top-level section). */
const withRb = (patch: Record<string, unknown>) => ({ risk_budgeting: { ...DEFAULT_CONFIG_DOCUMENT.risk_budgeting, ...patch } });
const parseError = (patch: Record<string, unknown>) => errorOf(() => parseRiskConfig(withRb(patch)));
const regimes = DEFAULT_CONFIG_DOCUMENT.risk_budgeting.regime_allocations;

describe('defaults and the example file', () => {
  it('an empty document gives the documented defaults', () => {
    expect(loadRiskConfigText('')).toEqual(defaultRiskConfig());
    const c = defaultRiskConfig();
    expect(c.monitoringInterval).toBe(60_000);
    expect(c.covariance).toEqual({ estimator: 'ledoit-wolf', ewmaLambda: 0.94, minObservations: 20 });
    expect(c.allocation).toEqual({ method: 'erc', tolerance: 1e-10 });
    expect(c.regimeDetection).toEqual({
      method: 'rule',
      volWindow: 21,
      trend: null,
      states: 4,
      restarts: 5,
      seed: 1,
      threshold: 0.6,
      minDwell: 3,
    });
    expect(c.triggers.regimeChangeCooldown).toBe(86_400_000);
    expect(c.triggers.budgetBreach).toBe(1);
    expect(c.limitHeadroom).toBe(1.1);
    expect(c.transactionCostBps).toBe(5);
    expect(regimePolicy(c, 'crisis').maxVol).toBe(Number.POSITIVE_INFINITY);
  });

  it('config/ballast.example.yaml is valid and, strategies and tilts aside, equals the defaults', () => {
    const example = loadRiskConfigText(readFileSync(EXAMPLE, 'utf8'));
    const defaults = defaultRiskConfig();
    const strip = (c: typeof defaults) => ({ ...c, strategies: [], regimes: c.regimes.map((r) => ({ ...r, strategyTilts: {} })) });
    expect(strip(example)).toEqual(strip(defaults));
    expect(example.strategies.map((s) => [s.name, s.riskBudget, s.assets.length])).toEqual([
      ['defensive', 0.5, 5],
      ['cyclical', 0.5, 5],
    ]);
    expect(regimePolicy(example, 'crisis').strategyTilts).toEqual({ cyclical: 0.25 });
  });

  it('parses YAML values into typed units', () => {
    const c = loadRiskConfigText(`
risk_budgeting:
  monitoring_interval: 5m
  periods_per_year: 365
  covariance: {estimator: ewma, ewma_lambda: 0.97}
  regime_detection: {method: hmm, states: 2, restarts: 3, seed: 7, trend_window: 200, trend_at_least: bear}
`);
    expect(c.regimeDetection).toMatchObject({ states: 2, restarts: 3, seed: 7 });
    expect(c.monitoringInterval).toBe(300_000);
    expect(c.periodsPerYear).toBe(365);
    expect(c.covariance.estimator).toBe('ewma');
    expect(c.covariance.ewmaLambda).toBe(0.97);
    expect(c.regimeDetection.method).toBe('hmm');
    expect(c.regimeDetection.trend).toEqual({ window: 200, atLeast: 'bear' });
  });
});

describe('errors name the bad key', () => {
  it.each([
    ['unknown top-level key', 'risk_budgetting: {}', 'risk_budgetting', /unknown key/],
    ['unknown key in risk_budgeting', 'risk_budgeting: {capitol: 1}', 'risk_budgeting.capitol', /expected one of/],
    ['unknown key in a section', 'risk_budgeting: {leverage: {cap: 2, step: 1}}', 'risk_budgeting.leverage.step', /unknown key/],
    [
      'unknown regime key',
      'risk_budgeting: {regime_allocations: {calm: {equity_allocation: 1, leverage_limit: 1, vol_target: 0.1, vol: 1}}}',
      'risk_budgeting.regime_allocations.calm.vol',
      /unknown key/,
    ],
    [
      'missing vol_target',
      'risk_budgeting: {regime_allocations: {calm: {equity_allocation: 1, leverage_limit: 1}}}',
      'risk_budgeting.regime_allocations.calm.vol_target',
      /required/,
    ],
    [
      'equity_allocation above 1',
      'risk_budgeting: {regime_allocations: {calm: {equity_allocation: 1.2, leverage_limit: 1, vol_target: 0.1}}}',
      'risk_budgeting.regime_allocations.calm.equity_allocation',
      /\[0, 1\]/,
    ],
    [
      'vol_target given in percent',
      'risk_budgeting: {regime_allocations: {calm: {equity_allocation: 1, leverage_limit: 1, vol_target: 12}}}',
      'risk_budgeting.regime_allocations.calm.vol_target',
      /got 12/,
    ],
    ['no regimes', 'risk_budgeting: {regime_allocations: {}}', 'risk_budgeting.regime_allocations', /at least one/],
    ['a string where a number belongs', 'risk_budgeting: {capital: "10m"}', 'risk_budgeting.capital', /finite number/],
    ['non-integer periods_per_year', 'risk_budgeting: {periods_per_year: 252.5}', 'risk_budgeting.periods_per_year', /integer/],
    ['bad duration', 'risk_budgeting: {monitoring_interval: 10 minutes}', 'risk_budgeting.monitoring_interval', /duration/],
    [
      'regime_change not boolean',
      'risk_budgeting: {rebalancing_triggers: {regime_change: "yes"}}',
      'risk_budgeting.rebalancing_triggers.regime_change',
      /true or false/,
    ],
    [
      'vol_breach below 1',
      'risk_budgeting: {rebalancing_triggers: {vol_breach: 0.9}}',
      'risk_budgeting.rebalancing_triggers.vol_breach',
      /\[1, Infinity\]/,
    ],
    [
      'drift_threshold above 1',
      'risk_budgeting: {rebalancing_triggers: {drift_threshold: 5}}',
      'risk_budgeting.rebalancing_triggers.drift_threshold',
      /\[0, 1\]/,
    ],
    ['cap below floor', 'risk_budgeting: {leverage: {floor: 0.5, cap: 0.3}}', 'risk_budgeting.leverage.cap', /floor/],
    ['floor above a regime cap', 'risk_budgeting: {leverage: {floor: 0.5}}', 'risk_budgeting.leverage.floor', /crisis.*0\.4/],
    ['smoothing of 1 (would freeze leverage)', 'risk_budgeting: {leverage: {smoothing: 1}}', 'risk_budgeting.leverage.smoothing', /0\.999/],
    ['correlation scale above 1', 'risk_budgeting: {correlation: {scale: 1.5}}', 'risk_budgeting.correlation.scale', /\[0, 1\]/],
    ['unknown estimator', 'risk_budgeting: {covariance: {estimator: shrunk}}', 'risk_budgeting.covariance.estimator', /ledoit-wolf/],
    [
      'ewma_lambda of 1',
      'risk_budgeting: {covariance: {ewma_lambda: 1}}',
      'risk_budgeting.covariance.ewma_lambda',
      /strictly between 0 and 1/,
    ],
    [
      'min_observations above lookback_days',
      'risk_budgeting: {lookback_days: 60, covariance: {min_observations: 61}}',
      'risk_budgeting.covariance.min_observations',
      /exceeds lookback_days \(60\)/,
    ],
    [
      'unknown allocation method',
      'risk_budgeting: {allocation: {method: hrp}}',
      'risk_budgeting.allocation.method',
      /erc, inverse-vol, equal-weight/,
    ],
    ['unknown detection method', 'risk_budgeting: {regime_detection: {method: ml}}', 'risk_budgeting.regime_detection.method', /rule, hmm/],
    [
      'a one-state HMM',
      'risk_budgeting: {regime_detection: {method: hmm, states: 1}}',
      'risk_budgeting.regime_detection.states',
      /\[2, Infinity\]/,
    ],
    ['a fractional seed', 'risk_budgeting: {regime_detection: {seed: 1.5}}', 'risk_budgeting.regime_detection.seed', /integer/],
    [
      'trend window without its regime',
      'risk_budgeting: {regime_detection: {trend_window: 200}}',
      'risk_budgeting.regime_detection.trend_at_least',
      /together/,
    ],
    [
      'trend regime not configured',
      'risk_budgeting: {regime_detection: {trend_window: 200, trend_at_least: bearish}}',
      'risk_budgeting.regime_detection.trend_at_least',
      /bull, neutral, bear, crisis/,
    ],
    [
      'hysteresis threshold above 1',
      'risk_budgeting: {regime_detection: {threshold: 1.5}}',
      'risk_budgeting.regime_detection.threshold',
      /got 1.5/,
    ],
    ['limit headroom below 1', 'risk_budgeting: {gate: {limit_headroom: 0.9}}', 'risk_budgeting.gate.limit_headroom', /\[1, 10\]/],
    ['negative costs', 'risk_budgeting: {costs: {transaction_bps: -1}}', 'risk_budgeting.costs.transaction_bps', /got -1/],
    ['strategies not a list', 'risk_budgeting: {strategies: {a: 1}}', 'risk_budgeting.strategies', /list/],
    [
      'strategy without assets',
      'risk_budgeting: {strategies: [{name: a, budget: 1, assets: []}]}',
      'risk_budgeting.strategies[0].assets',
      /non-empty/,
    ],
    [
      'strategy budgets not summing to 1',
      'risk_budgeting: {strategies: [{name: a, budget: 0.5, assets: [X]}, {name: b, budget: 0.4, assets: [Y]}]}',
      'risk_budgeting.strategies',
      /sum to 1/,
    ],
    [
      'duplicate strategy names',
      'risk_budgeting: {strategies: [{name: a, budget: 0.5, assets: [X]}, {name: a, budget: 0.5, assets: [Y]}]}',
      'risk_budgeting.strategies',
      /duplicate strategy name "a"/,
    ],
  ])('%s', (_what, yaml, key, message) => {
    const err = yamlError(yaml);
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`config key "${key}"`)).toBe(true);
  });

  it('max_vol must not decrease from calm to turbulent', () => {
    const err = parseError({ regime_allocations: { ...regimes, neutral: { ...regimes.neutral, max_vol: 0.1 } } });
    expect(err.key).toBe('risk_budgeting.regime_allocations.neutral.max_vol');
    expect(err.message).toMatch(/bull has 0.16/);
  });

  it('max_vol order is not checked under HMM detection, which does not use it', () => {
    const doc = withRb({
      regime_detection: { method: 'hmm' },
      regime_allocations: { ...regimes, neutral: { ...regimes.neutral, max_vol: 0.1 } },
    });
    expect(parseRiskConfig(doc).regimeDetection.method).toBe('hmm');
  });

  it('strategy tilts must name a configured strategy ("core" when none are configured)', () => {
    const err = parseError({ regime_allocations: { ...regimes, bear: { ...regimes.bear, strategy_tilts: { carry: 0.5 } } } });
    expect(err.key).toBe('risk_budgeting.regime_allocations.bear.strategy_tilts.carry');
    expect(err.message).toMatch(/have: core/);
  });

  it('tilts may not switch every strategy off', () => {
    const err = parseError({ regime_allocations: { ...regimes, bear: { ...regimes.bear, strategy_tilts: { core: 0 } } } });
    expect(err.key).toBe('risk_budgeting.regime_allocations.bear.strategy_tilts');
  });

  it('YAML syntax errors and duplicate keys report the line', () => {
    const syntax = yamlError('risk_budgeting:\n  capital: [1, 2\n');
    expect(syntax.key).toBe('(yaml)');
    expect(syntax.message).toMatch(/line \d+/);
    const dupe = yamlError('risk_budgeting:\n  capital: 1\n  capital: 2\n');
    expect(dupe.key).toBe('(yaml)');
    expect(dupe.message).toMatch(/line 3/);
  });

  it('an unknown regime name is a ConfigError naming regime_allocations', () => {
    const err = errorOf(() => regimePolicy(defaultRiskConfig(), 'euphoria'));
    expect(err.key).toBe('risk_budgeting.regime_allocations');
    expect(err.message).toMatch(/euphoria/);
  });
});

describe('lot_sizes', () => {
  it('maps instruments to units per lot; none by default', () => {
    expect(defaultRiskConfig().lotSizes).toEqual({});
    expect(parseRiskConfig(withRb({ lot_sizes: { ES: 50, AAPL: 1 } })).lotSizes).toEqual({ ES: 50, AAPL: 1 });
  });
  it('a lot size must be a positive number, named by its instrument', () => {
    expect(parseError({ lot_sizes: { ES: 0 } }).key).toBe('risk_budgeting.lot_sizes.ES');
    expect(parseError({ lot_sizes: [50] }).key).toBe('risk_budgeting.lot_sizes');
  });
});
