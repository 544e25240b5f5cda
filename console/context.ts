/** What the console's routes are given: read stores (types only: processes/console.ts builds them), the desk, the authenticator. */
import type { ConsoleReadStore } from '../db/stores/consoleReads';
import type { PositionRow } from '../db/stores/positions';
import type { Authenticator } from './auth';
import type { Desk } from './desk';

export type ConsoleReads = Pick<
  ConsoleReadStore,
  | 'portfolios'
  | 'portfolio'
  | 'budgetVersions'
  | 'budgetVersionWithPredecessor'
  | 'recommendations'
  | 'recommendation'
  | 'overrides'
  | 'override'
  | 'alerts'
  | 'regimeChanges'
  | 'regimeTimeline'
  | 'riskModel'
  | 'gateDecisions'
  | 'decisionSummary'
  | 'latestMetrics'
  | 'successMetrics'
  | 'tradingStates'
>;

export interface PositionsReader {
  forPortfolio(portfolioId: string): Promise<PositionRow[]>;
}

export interface ConsoleContext {
  readonly reads: ConsoleReads;
  readonly positions: PositionsReader;
  readonly desk: Desk;
  readonly auth: Authenticator;
  /** Clock for expiries and countdowns (tests may pin it). */
  readonly now: () => Date;
}
