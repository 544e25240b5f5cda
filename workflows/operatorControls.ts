/**
 * The operator controls of a portfolio loop: pause/resume, trading state, limit override. Each is
 * validated synchronously when it arrives as an Update (an invalid one never reaches history), and
 * recorded in the audit trail under a key derived from workflow state.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import { type LimitOverrideRequest, type TradingStateRequest, tradingScopeError } from '../risk/budget';
import { TRADING_STATES, type TradingState, isTradingState } from '../risk/kinds';
import { separationOfDutiesError } from '../risk/approval';
import { overrideRequestError } from '../risk/overrides';
import { refusal } from './approvalBook';
import type { OverrideRevocation } from './contract';
import type { OperatorRequest } from './messages';
import { writes } from './retryPolicies';

const actionKey = (what: string): string => `${workflowInfo().workflowId}:${what}:${uuid4()}`;

export function requireOperator(req: OperatorRequest | undefined): void {
  if (!req?.operator || !req?.reason) throw refusal('InvalidRequest', 'operator and reason are required');
}

/** The portfolio's state (setTradingState): no scope, or the portfolio's. */
export function validateTradingState(req: TradingStateRequest | undefined): void {
  validateStateRequest(req);
  if (req?.scope && req.scope.kind !== 'portfolio')
    throw refusal(
      'InvalidRequest',
      "setTradingState sets the portfolio's state: send a strategy or instrument scope to setScopedTradingState",
    );
}

/**
 * A strategy's or an instrument's state (setScopedTradingState). A separate Update so that a loop
 * built before scopes refuses it as unknown instead of applying it to the whole portfolio.
 */
export function validateScopedTradingState(req: TradingStateRequest | undefined): void {
  validateStateRequest(req);
  if (!req?.scope || req.scope.kind === 'portfolio')
    throw refusal('InvalidRequest', 'setScopedTradingState needs a scope: {"kind": "strategy" or "instrument", "name": …}');
}

function validateStateRequest(req: TradingStateRequest | undefined): void {
  if (!isTradingState(req?.state)) {
    throw refusal('InvalidRequest', `state must be one of ${TRADING_STATES.join(', ')}, got ${JSON.stringify(req?.state)}`);
  }
  const scopeError = tradingScopeError(req?.scope);
  if (scopeError) throw refusal('InvalidRequest', scopeError);
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

/** A revocation names the override (its id from overrideLimit), who revokes it and why. */
export function validateRevocation(req: OverrideRevocation | undefined): void {
  if (!req || !Number.isSafeInteger(req.overrideId) || req.overrideId <= 0) {
    throw refusal('InvalidRequest', 'overrideId must be the positive id overrideLimit returned');
  }
  requireOperator(req);
}

/** Ends an override now; refused when it is not active, so a typo in the id is not a silent success. */
export async function revokeOverride(portfolioId: string, request: OverrideRevocation): Promise<{ readonly revoked: boolean }> {
  const result = await writes.revokeOverride({ idempotencyKey: actionKey('revoke'), portfolioId, request });
  if (!result.revoked) {
    throw refusal(
      'InvalidRequest',
      `override ${request.overrideId} of portfolio ${portfolioId} is not active (unknown, expired or already revoked)`,
    );
  }
  return result;
}

export function overrideLimit(portfolioId: string, request: LimitOverrideRequest): Promise<{ readonly overrideId: number }> {
  return writes.createOverride({ idempotencyKey: actionKey('override'), portfolioId, request });
}
