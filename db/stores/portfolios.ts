/**
 * The portfolios table: registration, the market data a portfolio's loop reads, the loop's heartbeat
 * (the gate measures budget staleness from it). Trading states are set through db/stores/tradingStates.ts.
 */
import type pg from 'pg';
import type { MarketDataSpec } from '../../risk/marketData';

export class PortfolioStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the portfolio if it does not exist (an existing one is left as it is). */
  async ensure(portfolioId: string, baseCurrency = 'USD'): Promise<void> {
    await this.pool.query('INSERT INTO portfolios (id, base_currency) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
      portfolioId,
      baseCurrency,
    ]);
  }

  /** Remembers the market data the portfolio's loop uses (manual rebalances default to it). */
  async setMarketData(portfolioId: string, spec: MarketDataSpec): Promise<void> {
    await this.pool.query('UPDATE portfolios SET market_data = $2 WHERE id = $1', [portfolioId, JSON.stringify(spec)]);
  }

  /** The portfolio's market data: null when none was recorded, undefined when the portfolio is unknown. */
  async marketData(portfolioId: string): Promise<MarketDataSpec | null | undefined> {
    const { rows } = await this.pool.query<{ market_data: MarketDataSpec | null }>('SELECT market_data FROM portfolios WHERE id = $1', [
      portfolioId,
    ]);
    return rows[0] ? rows[0].market_data : undefined;
  }

  /** Marks the loop alive after a complete cycle. */
  async heartbeat(portfolioId: string): Promise<void> {
    await this.pool.query('UPDATE portfolios SET loop_heartbeat_at = now() WHERE id = $1', [portfolioId]);
  }
}
