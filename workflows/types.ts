/**
 * Types shared by the workflows (deterministic) and the activities (I/O). Plain JSON only: every
 * value here travels through Temporal payloads and workflow history.
 */
import type { RiskBudget } from '../risk/budget';
import type { Recommendation as EngineRecommendation } from '../risk/recommendation';
import type { HysteresisState } from '../risk/regime/hysteresis';

export const TASK_QUEUE = 'ballast-risk';
export const loopWorkflowId = (portfolioId: string): string => `portfolio-loop-${portfolioId}`;
export const manualRebalanceWorkflowId = (portfolioId: string): string => `manual-rebalance-${portfolioId}`;

export type { MarketDataSpec, MarketRef } from '../market/source';
import type { MarketDataSpec } from '../market/source';

import type { TradingState } from '../risk/kinds';

export type { TradingState } from '../risk/kinds';

export interface PortfolioLoopInput {
  readonly portfolioId: string;
  readonly marketData: MarketDataSpec;
  /** Milliseconds between cycles; default 60 000. Tests pass ~1 000. */
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
  /** Cycles per run before continue-as-new (history stays small); default 200. */
  readonly cyclesPerRun?: number;
  /** State carried over continue-as-new; absent on the first run. */
  readonly carried?: LoopState;
}

export interface RegimeReading {
  /** Regime names ordered calm → turbulent, aligned with `probabilities`. */
  readonly regimes: readonly string[];
  readonly probabilities: readonly number[];
  readonly method: 'rule' | 'hmm';
  /** Measured annualized index volatility behind the reading. */
  readonly realizedVol: number;
}

export interface RegimeChange {
  readonly from: string | null;
  readonly to: string;
  /** Data time (bar) at which the switch was declared. */
  readonly detectedAsOf: string;
  /** Workflow time (ms since epoch) of detection and of the committed budget; response = difference. */
  readonly detectedAtMs: number;
  committedAtMs?: number;
  committedVersion?: number;
}

export interface TriggerReading {
  readonly kind: string;
  readonly fired: boolean;
  readonly value: number | string | null;
  readonly threshold: number | string | null;
  readonly detail?: string;
}

export type RecommendationStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'COMMITTED' | 'SUPERSEDED';

export interface Recommendation {
  readonly id: string;
  readonly portfolioId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
  readonly reason: string;
  readonly addsRisk: boolean;
  readonly triggers: readonly TriggerReading[];
  readonly budget: RiskBudget;
  readonly baseVersion: number | null;
  /** Summary of the change for humans and the UI (gross before/after, regime before/after...). */
  readonly summary: Readonly<Record<string, number | string | null>>;
  /** The engine's recommendation: current and target allocations, per-asset deltas, turnover, cost, priority. */
  readonly detail?: EngineRecommendation | null;
}

export interface Decision {
  readonly recommendationId: string;
  readonly approver: string;
  readonly reason: string;
}

export type { LimitOverrideRequest } from '../risk/budget';

export interface TradingStateRequest {
  readonly state: TradingState;
  readonly reason: string;
  readonly operator: string;
}

export interface LoopState {
  /** Cycles run over the workflow's whole life; names idempotency keys, so it never repeats. */
  cycle: number;
  paused: boolean;
  regime: string | null;
  hysteresis: HysteresisState | null;
  lastReading: RegimeReading | null;
  lastMarketAsOf: string | null;
  committedVersion: number | null;
  committedBudget: RiskBudget | null;
  pending: Recommendation | null;
  lastTriggers: TriggerReading[];
  /** Most recent regime changes, newest last (bounded). */
  regimeChanges: RegimeChange[];
  /** Recommendations decided recently (ids), so a duplicate decision is rejected with a message. */
  decided: { id: string; status: RecommendationStatus }[];
  lastError: string | null;
  /** Last rejected risk-increasing proposal: the same regime is not re-proposed until the cooldown ends. */
  lastRejection?: { regime: string; atMs: number } | null;
}

export interface LoopStatus {
  readonly portfolioId: string;
  readonly paused: boolean;
  readonly cycle: number;
  readonly regime: string | null;
  /** The latest regime reading (method, probabilities per regime, realized vol) before hysteresis. */
  readonly regimeReading: RegimeReading | null;
  readonly budgetVersion: number | null;
  readonly grossLimit: number | null;
  readonly lastMarketAsOf: string | null;
  readonly pendingRecommendation: Recommendation | null;
  readonly triggers: readonly TriggerReading[];
  readonly regimeChanges: readonly RegimeChange[];
  readonly lastError: string | null;
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
