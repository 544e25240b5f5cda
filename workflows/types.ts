/**
 * The workflows' inputs, results, carried state and status: plain JSON, because every value here
 * travels through Temporal payloads and workflow history. Also the task queue and the workflow ids
 * that make a portfolio's loop and manual rebalance unique.
 */
import type { Recommendation } from '../risk/approval';
import type { TriggerReading } from '../risk/assessment';
import type { MarketDataSpec } from '../risk/marketData';
import type { HysteresisState } from '../risk/regime/hysteresis';
import type { RegimeReading } from '../risk/regime/reading';
import type { RegimeChange } from '../risk/regime/tracker';
import type { RiskBudget } from '../risk/budget';
import type { ReriskingPolicy } from '../risk/rerisking';
import type { RecommendationStatus, TradingState } from '../risk/kinds';

export const TASK_QUEUE = 'ballast-risk';
export const loopWorkflowId = (portfolioId: string): string => `portfolio-loop-${portfolioId}`;
export const manualRebalanceWorkflowId = (portfolioId: string): string => `manual-rebalance-${portfolioId}`;

export interface PortfolioLoopInput {
  readonly portfolioId: string;
  readonly marketData: MarketDataSpec;
  /** Milliseconds between cycles; default from config (60 000). Tests pass ~1 000. */
  readonly monitoringIntervalMs?: number;
  /** Raw `risk_budgeting` YAML document (validated by an activity); defaults apply when omitted. */
  readonly config?: unknown;
  /** How long a risk-increasing recommendation waits for a human before it expires; default from config. */
  readonly approvalTimeoutMs?: number;
  /**
   * A brand-new portfolio has no budget, so the gate denies everything; its first budget is committed
   * without approval unless this is false.
   */
  readonly autoApproveInitialBudget?: boolean;
  /** Re-risking policy (steps, spacing of asks); default from config `approval` (risk/rerisking.ts). */
  readonly rerisking?: ReriskingPolicy;
  /** Cycles per run before continue-as-new (history stays small); default 200. */
  readonly cyclesPerRun?: number;
  /** State carried over continue-as-new; absent on the first run. */
  readonly carried?: LoopState;
  /** The version of `config` in portfolio_policies, when the loop was started by `ballast portfolio`. */
  readonly policyVersion?: number;
}

/** A policy version the loop runs (set by `ballast portfolio update`; before any, `input.config`). */
export interface PolicyInForce {
  readonly version: number;
  /** Raw `risk_budgeting` document. */
  readonly document: unknown;
}

/** A risk-adding policy version waiting for approval of the budget it produces (workflows/policyChanges.ts). */
export interface PendingPolicy extends PolicyInForce {
  readonly requestedBy: string;
  readonly reason: string;
  /** Which keys loosen, one sentence each (risk/portfolioSpec.ts `policyRiskIncreases`). */
  readonly riskReasons: readonly string[];
  /** The recommendation carrying its budget through the approval rule, once proposed. */
  readonly recommendationId: string | null;
}

/** What the approval rule reads and writes; part of the loop's state carried over continue-as-new. */
export interface ApprovalState {
  committedVersion: number | null;
  committedBudget: RiskBudget | null;
  pending: Recommendation | null;
  /** Recommendations decided recently (ids), so a duplicate decision is refused with a message. */
  decided: { id: string; status: RecommendationStatus }[];
  /** Last rejected risk-increasing proposal: the same regime is not re-proposed until the cooldown ends. */
  lastRejection?: { regime: string; atMs: number } | null;
  /** When a human was last asked to approve more risk (the re-risking policy's spacing runs from it). */
  lastAskAtMs?: number | null;
  /** Notes a person should see in the workflow's summary: refused or malformed messages (bounded, newest last). */
  notices?: { atMs: number; text: string }[];
}

/** The loop's whole state: the approval book's, and the regime track's and the cycle's. */
export interface LoopState extends ApprovalState {
  /** Cycles run over the workflow's whole life; names idempotency keys, so it never repeats. */
  cycle: number;
  paused: boolean;
  /** The trading state last set through this loop's setTradingState Update (absent: never set here; the gate's default is ACTIVE). */
  tradingState?: TradingState;
  /** The declared regime and its hysteresis (risk/regime/tracker.ts). */
  regime: string | null;
  hysteresis: HysteresisState | null;
  /** Last bar the regime track stepped (absent in state carried from before per-bar tracking). */
  regimeBar?: number | null;
  lastReading: RegimeReading | null;
  lastMarketAsOf: string | null;
  lastTriggers: TriggerReading[];
  /** Most recent regime changes, newest last (bounded). */
  regimeChanges: RegimeChange[];
  lastError: string | null;
  /** The policy changed after start (absent: `input.config` is in force). */
  policy?: PolicyInForce | null;
  pendingPolicy?: PendingPolicy | null;
}

export interface LoopStatus {
  readonly portfolioId: string;
  readonly paused: boolean;
  /** The trading state last set through the loop (null: never set here, so the default ACTIVE). */
  readonly tradingState: TradingState | null;
  readonly cycle: number;
  readonly regime: string | null;
  /** The latest regime reading (method, probabilities per regime, realized vol) before hysteresis. */
  readonly regimeReading: RegimeReading | null;
  readonly budgetVersion: number | null;
  readonly grossLimit: number | null;
  readonly lastMarketAsOf: string | null;
  readonly pendingRecommendation: Recommendation | null;
  /** The last cycle's trigger readings (after a calm cycle without their `detail` sentences). */
  readonly triggers: readonly TriggerReading[];
  readonly regimeChanges: readonly RegimeChange[];
  readonly lastError: string | null;
  /** The policy version in force (null: started without one) and the one waiting for approval. */
  readonly policyVersion?: number | null;
  readonly pendingPolicyVersion?: number | null;
}

export interface ManualRebalanceInput {
  readonly portfolioId: string;
  /** Defaults to the market data the portfolio's loop uses. */
  readonly marketData?: MarketDataSpec;
  readonly requestedBy: string;
  readonly reason: string;
  readonly config?: unknown;
  readonly approvalTimeoutMs?: number;
}

export interface ManualRebalanceResult {
  /** SUPERSEDED: another commit moved the budget meanwhile and this one would have added unapproved risk. */
  readonly outcome: 'COMMITTED' | 'REJECTED' | 'EXPIRED' | 'SUPERSEDED';
  readonly recommendationId: string;
  readonly version: number | null;
}
