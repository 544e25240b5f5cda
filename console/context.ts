/** What the console's routes are given: read stores (types only: processes/console.ts builds them), the desk, the authenticator. */
import type { ConsoleReadStore } from '../db/stores/consoleReads';
import type { GateDecisionsStore } from '../db/stores/gateDecisions';
import type { GateLeaseStore } from '../db/stores/gateLeases';
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

/** The gate replicas' heartbeats and the budget version each serves (written by gates run with --ha). */
export type GateReplicasReader = Pick<GateLeaseStore, 'replicaStatus'>;

/** The gates' approved orders with their fills: the working orders behind the worst-case utilization. */
export type WorkingOrdersReader = Pick<GateDecisionsStore, 'approvedInPortfolio'>;

export interface ConsoleContext {
  readonly reads: ConsoleReads;
  readonly replicas: GateReplicasReader;
  readonly approvals: WorkingOrdersReader;
  readonly positions: PositionsReader;
  readonly desk: Desk;
  readonly auth: Authenticator;
  /** Clock for expiries and countdowns (tests may pin it). */
  readonly now: () => Date;
}
