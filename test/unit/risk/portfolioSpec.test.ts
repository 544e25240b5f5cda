import { ConfigError, parseRiskConfig } from '../../../risk/config';
import { loadPolicyText, loadPortfolioSpecText, parsePortfolioSpec, policyRiskIncreases } from '../../../risk/portfolioSpec';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const regimes = (calmVol: number, calmLev = 1) => ({
  calm: { equity_allocation: 0.9, leverage_limit: calmLev, vol_target: calmVol, max_position_share: 0.4, max_vol: 0.2 },
  crisis: { equity_allocation: 0.5, leverage_limit: 0.6, vol_target: 0.05, max_position_share: 0.4, max_vol: null },
});
const config = (rb: Record<string, unknown>) => parseRiskConfig({ risk_budgeting: rb });

describe('portfolio files', () => {
  it('reads the shipped demo portfolio', () => {
    const spec = loadPortfolioSpecText(readFileSync(join(__dirname, '../../../config/demo-portfolio.yaml'), 'utf8'));
    expect(spec).toMatchObject({ id: 'demo', baseCurrency: 'USD', marketData: { kind: 'synthetic', feedId: 'demo' } });
    expect(spec.config.regimes.map((r) => r.name)).toEqual(['bull', 'neutral', 'bear', 'crisis']);
  });

  it.each([
    [{ risk_budgeting: {} }, 'portfolio'],
    [{ portfolio: { id: 'a b', market_data: { kind: 'csv', path: 'x' } } }, 'portfolio.id'],
    [{ portfolio: { id: 'a', base_currency: 'usd', market_data: { kind: 'csv', path: 'x' } } }, 'portfolio.base_currency'],
    [{ portfolio: { id: 'a' } }, 'portfolio.market_data'],
    [{ portfolio: { id: 'a', market_data: { kind: 'kafka' } } }, 'portfolio.market_data.kind'],
    [{ portfolio: { id: 'a', market_data: { kind: 'csv' } } }, 'portfolio.market_data.path'],
    [{ portfolio: { id: 'a', market_data: { kind: 'csv', path: 'x', extra: 1 } } }, 'portfolio.market_data.extra'],
    [{ portfolio: { id: 'a', market_data: { kind: 'csv', path: 'x' } }, risk_budgeting: { capital: 0 } }, 'risk_budgeting.capital'],
    [{ portfolio: { id: 'a', market_data: { kind: 'csv', path: 'x' } }, extra: {} }, 'extra'],
  ])('names the bad key %#', (doc, key) => {
    try {
      parsePortfolioSpec(doc);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
    }
  });

  it('takes a policy alone or a whole portfolio file for an update', () => {
    expect(loadPolicyText('risk_budgeting: {capital: 5}').config.capital).toBe(5);
    expect(() => loadPolicyText('risk_budgeting: {capitl: 5}')).toThrow(/risk_budgeting\.capitl/);
    expect(() => loadPolicyText('risk_budgeting: {capital: 5}\nrisk_budgeting: {}')).toThrow(/\(yaml\)/);
  });
});

describe('policyRiskIncreases', () => {
  const base = config({ regime_allocations: regimes(0.1) });
  it('is empty for the same or a tighter policy', () => {
    expect(policyRiskIncreases(base, base)).toEqual([]);
    expect(policyRiskIncreases(base, config({ regime_allocations: regimes(0.08), capital: 5e6 }))).toEqual([]);
  });
  it('names every key that loosens', () => {
    const looser = config({ regime_allocations: regimes(0.12, 1.2), capital: 2e7, leverage: { cap: 3 }, gate: { max_order_share: 0.1 } });
    expect(policyRiskIncreases(base, looser)).toEqual([
      'risk_budgeting.capital rises from 10000000 to 20000000',
      'risk_budgeting.regime_allocations.calm.vol_target rises from 0.1 to 0.12',
      'risk_budgeting.regime_allocations.calm.leverage_limit rises from 1 to 1.2',
      'risk_budgeting.leverage.cap rises from 2 to 3',
      'risk_budgeting.gate.max_order_share rises from 0.05 to 0.1',
    ]);
  });
  it('counts a new regime as added risk', () => {
    const more = config({
      regime_allocations: { ...regimes(0.1), panic: { equity_allocation: 0.1, leverage_limit: 0.1, vol_target: 0.01 } },
    });
    expect(policyRiskIncreases(base, more)).toEqual(['risk_budgeting.regime_allocations.panic is a new regime']);
  });
});
