/** What every activity is built over: the stores, the market data service, a logger. Never a raw pool. */
import type { Logger } from 'pino';
import type { Stores } from '../db/stores';
import type { MarketDataService } from '../market/source';

export interface ActivityDeps {
  readonly stores: Stores;
  readonly market: MarketDataService;
  readonly logger: Logger;
  /** Alerts are also POSTed here when set (best effort). */
  readonly alertWebhookUrl?: string;
}
