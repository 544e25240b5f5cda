/**
 * What the gate needs from outside, injected into `serveGate` (hexagonal ports). The gate names only
 * the types of db/; processes/gate.ts builds the stores over one pool and passes them in, and tests
 * pass stand-ins.
 */
import type { RefusalKind } from '../risk/kinds';
import type { FillRecord } from '../db/stores/fills';
import type { ApprovedOrder, DecisionLine, DecisionRecord } from '../db/stores/gateDecisions';
import type { GateSnapshotRow } from '../db/stores/gateSnapshots';
import type { PortfolioChangeFeed } from '../db/notifications';
import type { PositionRow } from '../db/stores/positions';
import type { RecommendationView } from '../db/stores/recommendationViews';
import type { LimitOverrideRequest } from '../risk/budget';
import type { Alert } from '../risk/records';

/**
 * The audit trail: every decision, in batches (db/stores/gateDecisions.ts). A decision is encoded once,
 * when it is made: the spool keeps the encoded line and the batch writes those lines as they are.
 */
export interface DecisionSink {
  encode(replica: string, row: DecisionRecord): DecisionLine;
  /** What `encode` was given (a quarantined row is kept readable). */
  decode(line: DecisionLine): { replica: string; record: DecisionRecord };
  /** Writes a batch; a row already written (a replayed spool) is skipped. */
  insertLines(lines: readonly DecisionLine[]): Promise<void>;
  /** Approved orders of a replica since a time, oldest first, with their fills: rebuilt at start. Optional (stand-ins). */
  approvedSince?(replica: string, sinceMs: number, limit: number): Promise<readonly ApprovedOrder[]>;
}

/** Reported fills, in batches; also moves the stored positions (db/stores/fills.ts). */
export interface FillSink {
  insert(replica: string, rows: readonly FillRecord[]): Promise<void>;
  /** Fill ids reported to a replica since a time, oldest first: rebuilt at start. Optional (stand-ins). */
  idsSince?(
    replica: string,
    sinceMs: number,
    limit: number,
  ): Promise<ReadonlyArray<{ portfolioId: string; fillId: string; reportedAtMs: number }>>;
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

/** Where the gate raises an alert when it quarantines a row (db/stores/alerts.ts). */
export interface AlertSink {
  raise(alert: Alert): Promise<unknown>;
}

/**
 * The sinks' error contract: they throw errors carrying the SQLSTATE in `code`. Class 22 (data
 * exception: a value out of range, an underflow…) and class 23 (integrity constraint violation)
 * mean storage refused the rows themselves, so retrying the same batch can never succeed; anything
 * else (connection, timeout, shutdown) is an outage and is retried.
 */
export function storageRefusedRows(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** The storage side of the gate: required, the gate cannot decide without it. */
export interface GateStores {
  readonly decisions: DecisionSink;
  readonly fills: FillSink;
  readonly snapshots: SnapshotReader;
  readonly positions: PositionsReader;
  readonly changes: ChangeFeed;
  /** Told when a row is quarantined; optional (tests). */
  readonly alerts?: AlertSink;
}

/** What a RebalanceStarter throws while a manual rebalance of the portfolio runs (ALREADY_EXISTS). */
export class RebalanceAlreadyRunning extends Error {
  override readonly name = 'RebalanceAlreadyRunning';
}

/** The loop refused a control request by its own rule (four eyes, validation): the caller's mistake, not the gate's. */
export class ControlRefused extends Error {
  override readonly name = 'ControlRefused';
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the manual rebalance workflow; resolves with its workflow id; RebalanceAlreadyRunning while
 * one runs. With a request id, a retry of a call that started one (running or finished) resolves
 * with that workflow id instead of starting or refusing.
 */
export interface RebalanceStarter {
  start(portfolioId: string, requestedBy: string, reason: string, requestId?: string): Promise<{ workflowId: string }>;
}

/** The loop's latest recommendations of a portfolio, newest first. */
export interface RecommendationReader {
  latest(portfolioId: string, limit: number): Promise<readonly RecommendationView[]>;
}

/** The override the gate's OverrideLimit RPC forwards; the approver is the caller's verified identity. */
export type LimitOverrideCommand = LimitOverrideRequest;

export interface LimitOverrider {
  /**
   * Records the override (through the portfolio loop's overrideLimit Update); resolves with its id.
   * With a request id, a retry resolves with the first call's override id and records nothing more.
   */
  override(portfolioId: string, command: LimitOverrideCommand, requestId?: string): Promise<{ overrideId: number }>;
}

/** Visibility and control RPCs: each one absent answers FAILED_PRECONDITION with a message. */
export interface GateControls {
  readonly rebalanceStarter?: RebalanceStarter;
  readonly recommendationReader?: RecommendationReader;
  readonly limitOverrider?: LimitOverrider;
}
