/**
 * The contract between the workflows and their activities: every activity's name, input and output.
 * Workflows call activities through these interfaces (proxied in ./retryPolicies.ts); the worker's
 * activities implement them (activities/ imports this file for its types only). Everything here is
 * plain JSON, because it travels through workflow history.
 *
 * Two retry classes, one interface each, so an activity's retry policy follows from where it is
 * declared: `ReadActivities` (reads and pure computations, bounded retries) and `WriteActivities`
 * (keyed writes, retried until they land). Activity names are recorded in workflow histories: renaming
 * one breaks the replay of running loops.
 */
import type { ReriskingPolicy } from '../risk/rerisking';
import type { Recommendation } from '../risk/approval';
import type { BudgetAssessment, TriggerReading } from '../risk/assessment';
import type { LimitOverrideRequest, RiskBudget, TradingStateRequest } from '../risk/budget';
import type { RecommendationStatus } from '../risk/kinds';
import type { MarketDataSpec, MarketRef } from '../risk/marketData';
import type { Alert, ApprovalRecord, OperatorAction } from '../risk/records';
import type { HysteresisOptions } from '../risk/regime/hysteresis';
import type { RegimeReading } from '../risk/regime/reading';
import type { RegimeChange } from '../risk/regime/tracker';

/** The loop's settings from a validated configuration. */
export interface LoopSettings {
  readonly monitoringIntervalMs: number;
  readonly approvalTimeoutMs: number;
  readonly hysteresis: HysteresisOptions;
  /** Absent in results recorded before the re-risking policy existed (the default applies). */
  readonly rerisking?: ReriskingPolicy;
}

export interface RegimeRequest {
  readonly ref: MarketRef;
  /** Raw `risk_budgeting` document. */
  readonly config?: unknown;
  /** Last bar the loop's regime track has stepped: the readings of every bar after it come back (bounded). */
  readonly sinceBar?: number | null;
}

/** The reading at the ref's bar, and those of the bars since `sinceBar` before it (oldest first). */
export interface RegimeObservation extends RegimeReading {
  readonly earlier?: readonly RegimeReading[];
}

export interface BudgetRequest {
  readonly portfolioId: string;
  readonly ref: MarketRef;
  readonly regime: string;
  readonly config?: unknown;
  readonly previous?: RiskBudget | null;
}

export interface TriggerRequest {
  readonly portfolioId: string;
  readonly config?: unknown;
  readonly current: RiskBudget | null;
  readonly proposed: RiskBudget;
  /** Workflow time of the last regime-driven commit (for the regime-change cooldown). */
  readonly lastRegimeCommitAtMs?: number | null;
  readonly nowMs?: number;
}

export interface CommittedBudget {
  readonly version: number;
  readonly budget: RiskBudget;
}

/**
 * The policy a cycle runs, by reference: its version in portfolio_policies (a loop started or changed
 * by `ballast portfolio`), or the document itself for a loop started with inline config and no version.
 */
export type PolicyRef = { readonly version: number } | { readonly document?: unknown };

/** What a calm-path cycle hands its one read: small values and references, never a document or a budget. */
export interface CycleCheckRequest {
  readonly portfolioId: string;
  readonly marketData: MarketDataSpec;
  readonly policy: PolicyRef;
  /** Last bar the loop's regime track has stepped (as RegimeRequest). */
  readonly sinceBar: number | null;
  /** The regime the loop has declared (null: none yet); the budget is computed for it. */
  readonly regime: string | null;
  /** The committed version the loop holds; another one comes back in full. */
  readonly committedVersion: number | null;
  readonly lastRegimeCommitAtMs: number | null;
  readonly nowMs: number;
}

/**
 * The verdict of a cycle for the regime the loop had declared: calm (nothing fired, only the readings
 * come back) or the budget and assessment the loop acts on.
 */
export type CycleVerdict =
  /** Calm: the triggers' readings without their `detail` sentences (kept out of every cycle's history). */
  | { readonly calm: true; readonly regime: string; readonly triggers: TriggerReading[] }
  | { readonly calm: false; readonly regime: string; readonly budget: RiskBudget; readonly assessment: BudgetAssessment };

export interface CycleCheck {
  /** The bar observed; its spec is the loop's own market data, so it does not travel back. */
  readonly ref: Omit<MarketRef, 'spec'>;
  readonly observation: RegimeObservation;
  /** Present when the latest committed version is not the one the loop holds (another commit landed). */
  readonly committed?: CommittedBudget | null;
  /** Absent before the loop has declared a regime. */
  readonly verdict?: CycleVerdict;
}

export interface ReadActivities {
  /** Validates the configuration once per run; a bad config fails with the bad key named. */
  validateConfig(document: unknown): Promise<LoopSettings>;
  /** The market data the portfolio's loop uses (manual rebalances default to it). */
  portfolioMarketData(portfolioId: string): Promise<MarketDataSpec>;
  observeMarket(spec: MarketDataSpec): Promise<MarketRef>;
  latestCommitted(portfolioId: string): Promise<CommittedBudget | null>;
  assessRegime(input: RegimeRequest): Promise<RegimeObservation>;
  computeBudget(input: BudgetRequest): Promise<RiskBudget>;
  evaluateTriggers(input: TriggerRequest): Promise<BudgetAssessment>;
  /**
   * A cycle's reads in one call (a local activity, one marker in history): observe, read the regime,
   * compute the budget for the declared regime and assess it. Reads its policy and budgets by reference.
   */
  checkCycle(input: CycleCheckRequest): Promise<CycleCheck>;
  /** Validates a proposed policy (ConfigError naming the key) and says which of its keys add risk to the current one. */
  assessPolicyChange(input: { readonly current?: unknown; readonly proposed: unknown }): Promise<{ readonly riskReasons: string[] }>;
}

export interface RecommendationRecord {
  readonly recommendation: Recommendation;
  readonly status: RecommendationStatus;
  readonly committedVersion: number | null;
  /** Why it left PENDING without a human decision (e.g. the newer proposal that superseded it). */
  readonly settledReason?: string;
}

export interface CommitResult {
  readonly version: number;
  readonly created: boolean;
  /** Why the store refused the commit (the budget moved and this one would add unapproved risk), else null. */
  readonly refused: string | null;
}

export interface PlanRequest {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly version: number;
  readonly budget: RiskBudget;
}

export interface RegimeChangeRecord {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly change: RegimeChange;
}

export interface MetricsRequest {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly ref: MarketRef;
  readonly config?: unknown;
  readonly budget: RiskBudget | null;
  readonly reading: RegimeReading;
}

/** A calm cycle's outputs: its metrics and the heartbeat, everything named by reference. */
export interface CalmCycleRecord {
  readonly idempotencyKey: string;
  readonly portfolioId: string;
  readonly ref: MarketRef;
  readonly policy: PolicyRef;
  readonly budgetVersion: number | null;
  readonly reading: CycleReading;
}

/** What a cycle's metrics record of its regime reading. */
export type CycleReading = Pick<RegimeReading, 'regimes' | 'probabilities' | 'realizedVol'>;

export interface PolicyStatusRecord {
  readonly portfolioId: string;
  readonly version: number;
  readonly status: 'PENDING_APPROVAL' | 'ACTIVE' | 'REJECTED' | 'EXPIRED' | 'SUPERSEDED';
  readonly riskReasons?: readonly string[];
  readonly recommendationId?: string | null;
}

export interface WriteActivities {
  /** Registers the portfolio and remembers its market data. */
  ensurePortfolio(input: { readonly portfolioId: string; readonly marketData: MarketDataSpec }): Promise<void>;
  /** Marks the loop alive after a complete cycle: the gate measures budget staleness from it. */
  heartbeat(portfolioId: string): Promise<void>;
  recordRecommendation(input: RecommendationRecord): Promise<void>;
  recordDecision(input: ApprovalRecord): Promise<void>;
  /** Budget version, COMMITTED status and rebalancing plan in one transaction, keyed by recommendation. */
  commitRecommendation(input: { readonly recommendation: Recommendation }): Promise<CommitResult>;
  /** Re-issues the plan of a committed version (the book drifted from a budget that still stands). */
  emitRebalancePlan(input: PlanRequest): Promise<void>;
  raiseAlert(alert: Alert): Promise<void>;
  recordRegimeChange(input: RegimeChangeRecord): Promise<void>;
  recordMetrics(input: MetricsRequest): Promise<void>;
  /** Metrics and heartbeat of a calm cycle in one call (a local activity). */
  recordCalmCycle(input: CalmCycleRecord): Promise<void>;
  recordOperatorAction(input: OperatorAction): Promise<void>;
  /** What the loop decided about a policy version (portfolio_policies). */
  recordPolicyStatus(input: PolicyStatusRecord): Promise<void>;
  setTradingState(input: {
    readonly idempotencyKey: string;
    readonly portfolioId: string;
    readonly request: TradingStateRequest;
  }): Promise<void>;
  createOverride(input: {
    readonly idempotencyKey: string;
    readonly portfolioId: string;
    readonly request: LimitOverrideRequest;
  }): Promise<{ readonly overrideId: number }>;
  /** Ends an override of the portfolio now (audited); false when it was not active (unknown, expired or already revoked). */
  revokeOverride(input: {
    readonly idempotencyKey: string;
    readonly portfolioId: string;
    readonly request: OverrideRevocation;
  }): Promise<{ readonly revoked: boolean }>;
}

/** An operator's request to end a limit override before it expires (reduces risk: no second person needed). */
export interface OverrideRevocation {
  readonly overrideId: number;
  readonly operator: string;
  readonly reason: string;
}
