/**
 * What the gate needs from outside, injected into `serveGate` (hexagonal ports). The gate names only
 * the types of db/; processes/gate.ts builds the stores over one pool and passes them in, and tests
 * pass stand-ins.
 */
import type { FillRecord } from '../db/stores/fills';
import type { DecisionRecord } from '../db/stores/gateDecisions';
import type { GateSnapshotRow } from '../db/stores/gateSnapshots';
import type { PortfolioChangeFeed } from '../db/notifications';
import type { PositionRow } from '../db/stores/positions';
import type { RecommendationView } from '../db/stores/recommendationViews';
import type { LimitOverrideRequest } from '../risk/budget';

/** The audit trail: every decision, in batches (db/stores/gateDecisions.ts). */
export interface DecisionSink {
  insert(replica: string, rows: readonly DecisionRecord[]): Promise<void>;
}

/** Reported fills, in batches; also moves the stored positions (db/stores/fills.ts). */
export interface FillSink {
  insert(replica: string, rows: readonly FillRecord[]): Promise<void>;
}

/** What snapshots are built from: latest budget, trading state, heartbeat, overrides (db/stores/gateSnapshots.ts). */
export interface SnapshotReader {
  /** Every portfolio, or only the one named; risk model bodies with ids in `loadedModels` are left out. */
  read(portfolioId?: string, loadedModels?: ReadonlySet<string>): Promise<readonly GateSnapshotRow[]>;
}

/** Stored positions of every portfolio, to reconcile the in-memory books (db/stores/positions.ts). */
export interface PositionsReader {
  all(): Promise<readonly PositionRow[]>;
}

/** Tells the gate when to re-read a portfolio (LISTEN, db/notifications.ts). */
export type ChangeFeed = PortfolioChangeFeed;

/** The storage side of the gate: required, the gate cannot decide without it. */
export interface GateStores {
  readonly decisions: DecisionSink;
  readonly fills: FillSink;
  readonly snapshots: SnapshotReader;
  readonly positions: PositionsReader;
  readonly changes: ChangeFeed;
}

/** Starts the manual rebalance workflow; resolves with its workflow id. */
export interface RebalanceStarter {
  start(portfolioId: string, requestedBy: string, reason: string): Promise<{ workflowId: string }>;
}

/** The loop's latest recommendations of a portfolio, newest first. */
export interface RecommendationReader {
  latest(portfolioId: string, limit: number): Promise<readonly RecommendationView[]>;
}

/** The override the gate's OverrideLimit RPC forwards; the approver is the caller's verified identity. */
export type LimitOverrideCommand = LimitOverrideRequest;

export interface LimitOverrider {
  /** Records the override (through the portfolio loop's overrideLimit Update); resolves with its id. */
  override(portfolioId: string, command: LimitOverrideCommand): Promise<{ overrideId: number }>;
}

/** Visibility and control RPCs: each one absent answers FAILED_PRECONDITION with a message. */
export interface GateControls {
  readonly rebalanceStarter?: RebalanceStarter;
  readonly recommendationReader?: RecommendationReader;
  readonly limitOverrider?: LimitOverrider;
}
