/** A small hand-made budget: capital 1 000 000, targets A 300 000 and B 200 000 (gross 0.5, cash 0.5). */
import type { AssetBudget, RiskBudget } from '../../../risk/budget';
import { annualizedVol, currency, fraction, leverage, price } from '../../../risk/units';

const asset = (name: string, target: number, max: number): AssetBudget => ({
  strategy: 'core',
  asset: name,
  targetWeight: fraction(target / 500_000),
  targetNotional: currency(target),
  maxPositionNotional: currency(max),
  riskBudget: fraction(0.5),
  forecastVol: annualizedVol(0.2),
  referencePrice: price(100),
});

export function handBudget(over: Partial<RiskBudget> = {}): RiskBudget {
  return {
    portfolioId: 'p1',
    asOf: '2022-12-28',
    regime: 'bear',
    volTarget: annualizedVol(0.0625),
    forecastVol: annualizedVol(0.06),
    limits: {
      capital: currency(1_000_000),
      grossLeverage: leverage(0.5),
      maxGrossNotional: currency(550_000),
      maxNetNotional: currency(550_000),
      cashWeight: fraction(0.5),
      maxOrderNotional: currency(50_000),
      priceCollar: fraction(0.1),
    },
    strategies: [
      {
        strategy: 'core',
        riskBudget: fraction(1),
        capital: currency(500_000),
        maxGrossNotional: currency(550_000),
        maxNetNotional: currency(550_000),
      },
    ],
    assets: [asset('A', 300_000, 330_000), asset('B', 200_000, 220_000)],
    diagnostics: {},
    ...over,
  };
}
