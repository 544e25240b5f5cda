/**
 * The operator controls of a portfolio loop: pause/resume, trading state, limit override. Each is
 * validated synchronously when it arrives as an Update (an invalid one never reaches history), and
 * recorded in the audit trail under a key derived from workflow state.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { LimitOverrideRequest, TradingStateRequest } from '../risk/budget';
import { TRADING_STATES, type TradingState, isTradingState } from '../risk/kinds';
import { separationOfDutiesError } from '../risk/approval';
import { overrideRequestError } from '../risk/overrides';
import { refusal } from './approvalBook';
import type { OperatorRequest } from './messages';
import { writes } from './retryPolicies';

const actionKey = (what: string): string => `${workflowInfo().workflowId}:${what}:${uuid4()}`;

export function requireOperator(req: OperatorRequest | undefined): void {
  if (!req?.operator || !req?.reason) throw refusal('InvalidRequest', 'operator and reason are required');
}

export function validateTradingState(req: TradingStateRequest | undefined): void {
  if (!isTradingState(req?.state)) {
    throw refusal('InvalidRequest', `state must be one of ${TRADING_STATES.join(', ')}, got ${JSON.stringify(req?.state)}`);
  }
  requireOperator(req);
}

/**
 * The one override rule (risk/overrides.ts), checked at the workflow's clock, plus separation of
 * duties: every override through the loop names its requester, and its approver must be someone else.
 */
export function validateOverride(req: LimitOverrideRequest | undefined): void {
  if (req && typeof req === 'object' && (typeof req.requestedBy !== 'string' || req.requestedBy.trim() === '')) {
    throw refusal('InvalidRequest', 'requestedBy is required: an override names who asked for it, and someone else approves it');
  }
  const fourEyes =
    req && typeof req.approver === 'string' ? separationOfDutiesError('this override', req.requestedBy as string, req.approver) : null;
  if (fourEyes) throw refusal('SeparationOfDuties', fourEyes);
  const error = overrideRequestError(req, Date.now());
  if (error) throw refusal('InvalidRequest', error);
}

/** Pauses or resumes (the caller flips the loop's flag first) and records who did it. */
export async function recordPause(portfolioId: string, paused: boolean, req: OperatorRequest | undefined): Promise<{ paused: boolean }> {
  const action = paused ? 'pause' : 'resume';
  await writes.recordOperatorAction({
    idempotencyKey: actionKey(action),
    portfolioId,
    action,
    operator: req?.operator ?? 'temporal-ui',
    reason: req?.reason ?? 'no reason given',
    details: {},
  });
  return { paused };
}

export async function setTradingState(portfolioId: string, request: TradingStateRequest): Promise<{ state: TradingState }> {
  await writes.setTradingState({ idempotencyKey: actionKey('state'), portfolioId, request });
  return { state: request.state };
}

export function overrideLimit(portfolioId: string, request: LimitOverrideRequest): Promise<{ readonly overrideId: number }> {
  return writes.createOverride({ idempotencyKey: actionKey('override'), portfolioId, request });
}
