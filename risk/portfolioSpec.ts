/**
 * A portfolio file: who the portfolio is (`portfolio:` id, base currency, market data) and the policy
 * its loop runs (`risk_budgeting:`, validated by ./config.ts). Capital, strategies and universe are
 * part of the policy. Pure: parse YAML text or a parsed document, get a typed spec or a ConfigError
 * naming the bad key.
 *
 * portfolio:
 *   id: demo                       # [A-Za-z0-9][A-Za-z0-9._-]{0,63}
 *   base_currency: USD             # ISO 4217 code
 *   market_data: {kind: synthetic, feed: demo}      # or {kind: csv, path: /data/prices.csv}
 *                                                   # or {kind: ingested, instruments: [AAPL, MSFT], max_staleness: 4d}
 * risk_budgeting: { ... }          # config/ballast.example.yaml documents every key
 *
 * Also the one rule that says whether a policy change adds risk (`policyRiskIncreases`): a change that
 * does must be approved as a budget is.
 */
import { ConfigError, type RiskConfig, duration, parseRiskConfig, parseYamlText } from './config';
import type { MarketDataSpec } from './marketData';

export interface PortfolioSpec {
  readonly id: string;
  readonly baseCurrency: string;
  readonly marketData: MarketDataSpec;
  /** The `{risk_budgeting: …}` document exactly as written (key order kept: regimes are ordered calm → turbulent). */
  readonly policy: { readonly risk_budgeting?: unknown };
  /** The policy validated, defaults filled in. */
  readonly config: RiskConfig;
}

const PORTFOLIO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CURRENCY = /^[A-Z]{3}$/;

/** Parses a portfolio file's YAML text. YAML errors and duplicate keys name their line. */
export function loadPortfolioSpecText(yamlText: string): PortfolioSpec {
  return parsePortfolioSpec(parseYamlText(yamlText));
}

/** Validates a parsed portfolio document. */
export function parsePortfolioSpec(document: unknown): PortfolioSpec {
  const root = mapping(document, '(root)');
  knownKeys(root, ['portfolio', 'risk_budgeting'], '');
  if (root.portfolio === undefined) throw new ConfigError('portfolio', 'is required (id, base_currency, market_data)');
  const p = mapping(root.portfolio, 'portfolio');
  knownKeys(p, ['id', 'base_currency', 'market_data'], 'portfolio');
  const id = p.id;
  if (typeof id !== 'string' || !PORTFOLIO_ID.test(id))
    throw new ConfigError('portfolio.id', 'must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  const baseCurrency = p.base_currency ?? 'USD';
  if (typeof baseCurrency !== 'string' || !CURRENCY.test(baseCurrency))
    throw new ConfigError('portfolio.base_currency', 'must be a three-letter ISO 4217 code such as USD');
  const policy = { risk_budgeting: root.risk_budgeting ?? {} };
  return { id, baseCurrency, marketData: parseMarketData(p.market_data), policy, config: parseRiskConfig(policy) };
}

/** Validates a policy document alone (`{risk_budgeting: …}`), as `portfolio update --policy` takes it. */
export function loadPolicyText(yamlText: string): { readonly policy: { readonly risk_budgeting?: unknown }; readonly config: RiskConfig } {
  const document = parseYamlText(yamlText);
  const root = mapping(document ?? {}, '(root)');
  // A whole portfolio file is accepted too: its portfolio section must then be left as it is.
  const policy = { risk_budgeting: root.risk_budgeting ?? {} };
  knownKeys(root, ['portfolio', 'risk_budgeting'], '');
  return { policy, config: parseRiskConfig(policy) };
}

function parseMarketData(value: unknown): MarketDataSpec {
  const key = 'portfolio.market_data';
  if (value === undefined) throw new ConfigError(key, 'is required: {kind: synthetic, feed: ID} or {kind: csv, path: FILE}');
  const o = mapping(value, key);
  if (o.kind === 'synthetic') {
    knownKeys(o, ['kind', 'feed'], key);
    if (typeof o.feed !== 'string' || o.feed === '') throw new ConfigError(`${key}.feed`, 'must name the synthetic feed');
    return { kind: 'synthetic', feedId: o.feed };
  }
  if (o.kind === 'csv') {
    knownKeys(o, ['kind', 'path'], key);
    if (typeof o.path !== 'string' || o.path === '')
      throw new ConfigError(`${key}.path`, 'must be the price file (CSV, date column first)');
    return { kind: 'csv', path: o.path };
  }
  if (o.kind === 'ingested') {
    knownKeys(o, ['kind', 'instruments', 'max_staleness'], key);
    const instruments = o.instruments;
    if (!Array.isArray(instruments) || instruments.length === 0 || !instruments.every((i) => typeof i === 'string' && i !== ''))
      throw new ConfigError(`${key}.instruments`, 'must list the instruments whose closes the loop reads');
    if (new Set(instruments).size !== instruments.length) throw new ConfigError(`${key}.instruments`, 'lists an instrument twice');
    const maxStalenessMs = o.max_staleness === undefined ? undefined : duration(o.max_staleness, `${key}.max_staleness`);
    return { kind: 'ingested', instruments: instruments as string[], ...(maxStalenessMs !== undefined ? { maxStalenessMs } : {}) };
  }
  throw new ConfigError(`${key}.kind`, 'must be one of: synthetic, csv, ingested');
}

/**
 * Why moving from `current` to `proposed` adds risk, one sentence per key that loosens; empty when it
 * does not. Loosening is any of: more capital, a regime with a higher vol target, equity allocation,
 * leverage limit or position share (or a regime that did not exist), a higher leverage cap, floor or
 * step, a weaker correlation scale-down, a wider gate (order share, price collar, limit headroom).
 */
export function policyRiskIncreases(current: RiskConfig, proposed: RiskConfig): string[] {
  const reasons: string[] = [];
  const more = (key: string, from: number, to: number): void => {
    if (to > from + 1e-12) reasons.push(`${key} rises from ${from} to ${to}`);
  };
  more('risk_budgeting.capital', current.capital, proposed.capital);
  for (const regime of proposed.regimes) {
    const key = `risk_budgeting.regime_allocations.${regime.name}`;
    const before = current.regimes.find((r) => r.name === regime.name);
    if (!before) {
      reasons.push(`${key} is a new regime`);
      continue;
    }
    more(`${key}.vol_target`, before.volTarget, regime.volTarget);
    more(`${key}.equity_allocation`, before.equityAllocation, regime.equityAllocation);
    more(`${key}.leverage_limit`, before.leverageLimit, regime.leverageLimit);
    more(`${key}.max_position_share`, before.maxPositionShare, regime.maxPositionShare);
  }
  more('risk_budgeting.leverage.cap', current.leverageCap, proposed.leverageCap);
  more('risk_budgeting.leverage.floor', current.leverageFloor, proposed.leverageFloor);
  more('risk_budgeting.leverage.max_step', current.maxLeverageStep, proposed.maxLeverageStep);
  more('risk_budgeting.correlation.scale', current.correlation.scale, proposed.correlation.scale);
  more('risk_budgeting.correlation.threshold', current.correlation.threshold, proposed.correlation.threshold);
  more('risk_budgeting.gate.max_order_share', current.maxOrderShare, proposed.maxOrderShare);
  more('risk_budgeting.gate.price_collar', current.priceCollar, proposed.priceCollar);
  more('risk_budgeting.gate.limit_headroom', current.limitHeadroom, proposed.limitHeadroom);
  return reasons;
}

function mapping(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, 'must be a mapping');
  return value as Record<string, unknown>;
}

function knownKeys(o: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(o))
    if (!known.includes(key)) throw new ConfigError(where ? `${where}.${key}` : key, `unknown key (expected one of: ${known.join(', ')})`);
}
