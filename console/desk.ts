/**
 * The desk: the one port through which the console changes anything. Every call lands on the same
 * Temporal Update (or workflow start) the CLI and the Temporal UI use, with the signed-in person's
 * name as the operator/approver/requester, so the workflow's own rules (validation, four eyes, audit)
 * apply whatever path a change came by. processes/consoleDesk.ts implements it over Temporal; the
 * console never writes to Postgres.
 */
import type { LimitOverrideRequest } from '../risk/budget';
import type { TradingScope, TradingState } from '../risk/kinds';

export type DecisionKind = 'approve' | 'reject';

export interface DecisionOutcome {
  readonly recommendationId: string;
  readonly status: string;
  readonly committedVersion: number | null;
  /** Which workflow held the recommendation. */
  readonly workflowId: string;
}

export interface TradingStateChange {
  readonly state: TradingState;
  /** Undefined: the whole portfolio. */
  readonly scope?: TradingScope;
  readonly reason: string;
  readonly operator: string;
}

export type RebalanceProgress =
  | { readonly phase: 'none' }
  | { readonly phase: 'running'; readonly workflowId: string; readonly pendingRecommendationId: string | null }
  | {
      readonly phase: 'completed';
      readonly workflowId: string;
      readonly outcome: string;
      readonly recommendationId: string | null;
      /** The new budget version, or null for "no change". */
      readonly version: number | null;
    }
  | { readonly phase: 'failed'; readonly workflowId: string; readonly error: string };

export interface LoopView {
  readonly workflowId: string;
  readonly paused: boolean;
  readonly cycle: number;
  readonly regime: string | null;
  readonly regimeProbabilities: Readonly<Record<string, number>> | null;
  readonly lastMarketAsOf: string | null;
  readonly pendingRecommendationId: string | null;
  readonly lastError: string | null;
}

export interface Desk {
  decide(kind: DecisionKind, portfolioId: string, recommendationId: string, by: string, reason: string): Promise<DecisionOutcome>;
  startRebalance(portfolioId: string, requestedBy: string, reason: string): Promise<{ readonly workflowId: string }>;
  rebalanceProgress(portfolioId: string): Promise<RebalanceProgress>;
  createOverride(portfolioId: string, request: LimitOverrideRequest): Promise<{ readonly overrideId: number }>;
  revokeOverride(portfolioId: string, overrideId: number, by: string, reason: string): Promise<void>;
  setTradingState(portfolioId: string, change: TradingStateChange): Promise<{ readonly state: TradingState }>;
  setPaused(portfolioId: string, paused: boolean, by: string, reason: string): Promise<{ readonly paused: boolean }>;
  /** The loop's live status (a Query); undefined when no loop runs for the portfolio. */
  loop(portfolioId: string): Promise<LoopView | undefined>;
}

/** The workflow refused the change (its validator or rule); the sentence is the workflow's. The API answers 409. */
export class DeskRefusal extends Error {
  override readonly name = 'DeskRefusal';
}

/** The change needs support the running workflows do not have yet (the API answers 501). */
export class DeskUnsupported extends Error {
  override readonly name = 'DeskUnsupported';
}
