/**
 * Signals, updates and queries of the Ballast workflows. Approve/reject exist both as Updates (with a
 * synchronous validator, for programs and the CLI) and as Signals (so an operator can act from the
 * Temporal UI's "Send a Signal" dialog).
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, LimitOverrideRequest, LoopStatus, Recommendation, RecommendationStatus, TradingStateRequest } from './types';

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
export const setTradingStateUpdate = defineUpdate<{ readonly state: string }, [TradingStateRequest]>('setTradingState');
export const overrideLimitUpdate = defineUpdate<{ readonly overrideId: number }, [LimitOverrideRequest]>('overrideLimit');
export const pauseUpdate = defineUpdate<{ readonly paused: boolean }, [OperatorRequest]>('pauseLoop');
export const resumeUpdate = defineUpdate<{ readonly paused: boolean }, [OperatorRequest]>('resumeLoop');

export const statusQuery = defineQuery<LoopStatus>('status');
export const pendingRecommendationQuery = defineQuery<Recommendation | null>('pendingRecommendation');

export const PORTFOLIO_SA = defineSearchAttributeKey('BallastPortfolio', SearchAttributeType.KEYWORD);
export const REGIME_SA = defineSearchAttributeKey('BallastRegime', SearchAttributeType.KEYWORD);
export const PENDING_APPROVAL_SA = defineSearchAttributeKey('BallastPendingApproval', SearchAttributeType.BOOL);
