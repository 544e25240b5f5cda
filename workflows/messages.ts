/**
 * Signals, Updates and Queries of the Ballast workflows. Approve/reject exist both as Updates (with a
 * synchronous validator, for programs and the CLI) and as Signals (so an operator can act from the
 * Temporal UI's "Send a Signal" dialog). Names are part of the workflows' public interface and of
 * recorded histories: never rename one.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, Recommendation } from '../risk/approval';
import type { LimitOverrideRequest, TradingStateRequest } from '../risk/budget';
import type { RecommendationStatus, TradingState } from '../risk/kinds';
import type { OverrideRevocation } from './contract';
import type { LoopStatus } from './types';

/** A new policy version for the loop (`ballast portfolio update`). */
export interface PolicyChange {
  readonly version: number;
  /** Raw `risk_budgeting` document. */
  readonly document: unknown;
  readonly requestedBy: string;
  readonly reason: string;
}

export interface PolicyChangeResult {
  readonly version: number;
  /** ACTIVE at once when it adds no risk; else its budget waits for approval like any risk-adding budget. */
  readonly status: 'ACTIVE' | 'PENDING_APPROVAL';
  readonly riskReasons: readonly string[];
}

export interface DecisionResult {
  readonly recommendationId: string;
  readonly status: RecommendationStatus;
  readonly committedVersion: number | null;
}

export interface OperatorRequest {
  readonly operator: string;
  readonly reason: string;
}

export const marketEventSignal = defineSignal<[{ readonly source?: string; readonly asOf?: string }?]>('marketEvent');
export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
export const pauseSignal = defineSignal<[OperatorRequest?]>('pause');
export const resumeSignal = defineSignal<[OperatorRequest?]>('resume');

export const approveUpdate = defineUpdate<DecisionResult, [Decision]>('approveRecommendation');
export const rejectUpdate = defineUpdate<DecisionResult, [Decision]>('rejectRecommendation');
export const setTradingStateUpdate = defineUpdate<{ readonly state: TradingState }, [TradingStateRequest]>('setTradingState');
export const setScopedTradingStateUpdate = defineUpdate<{ readonly state: TradingState }, [TradingStateRequest]>('setScopedTradingState');
export const overrideLimitUpdate = defineUpdate<{ readonly overrideId: number }, [LimitOverrideRequest]>('overrideLimit');
export const revokeOverrideUpdate = defineUpdate<{ readonly revoked: boolean }, [OverrideRevocation]>('revokeOverride');
export const pauseUpdate = defineUpdate<{ readonly paused: boolean }, [OperatorRequest]>('pauseLoop');
export const resumeUpdate = defineUpdate<{ readonly paused: boolean }, [OperatorRequest]>('resumeLoop');

export const changePolicyUpdate = defineUpdate<PolicyChangeResult, [PolicyChange]>('changePolicy');

export const statusQuery = defineQuery<LoopStatus>('status');
export const pendingRecommendationQuery = defineQuery<Recommendation | null>('pendingRecommendation');
