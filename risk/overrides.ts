/**
 * The one rule for temporary limit overrides, applied wherever an override is requested (the loop's
 * `overrideLimit` Update, the gate's OverrideLimit RPC, the console): which limits, which scopes, which
 * values, and for how long.
 */
import { separationOfDutiesError } from './approval';
import { type LimitOverrideRequest, type OverridableLimit, OVERRIDABLE_LIMITS, overrideScopeError } from './budget';
import type { Currency } from './units';

/** An override in force, as stored in `limit_overrides` and enforced by the gate; null strategy/asset means "any". */
export interface ActiveOverride {
  readonly strategy: string | null;
  readonly asset: string | null;
  readonly field: OverridableLimit;
  readonly value: Currency;
  readonly expiresAtMs: number;
}

/** Overrides are temporary by design. */
export const MAX_OVERRIDE_MS = 30 * 86_400_000;
export const MAX_REASON_LENGTH = 1_000;

/** Why the request is not a valid override at `nowMs`, or null when it is. */
export function overrideRequestError(req: LimitOverrideRequest | undefined, nowMs: number): string | null {
  if (!req || typeof req !== 'object') return 'an override request is required';
  if (!(OVERRIDABLE_LIMITS as readonly string[]).includes(req.field)) return `field must be one of ${OVERRIDABLE_LIMITS.join(', ')}`;
  if (typeof req.value !== 'number' || !Number.isFinite(req.value) || req.value < 0) return 'value must be a finite number >= 0';
  if (typeof req.reason !== 'string' || req.reason.trim() === '' || req.reason.length > MAX_REASON_LENGTH) {
    return `reason must be 1..${MAX_REASON_LENGTH} characters`;
  }
  if (typeof req.approver !== 'string' || req.approver.trim() === '') return 'approver is required';
  if (req.requestedBy !== undefined && (typeof req.requestedBy !== 'string' || req.requestedBy.trim() === '')) {
    return 'requestedBy, when given, must name a person';
  }
  const fourEyes = req.requestedBy === undefined ? null : separationOfDutiesError('this override', req.requestedBy, req.approver);
  if (fourEyes) return fourEyes;
  const expires = typeof req.expiresAt === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(req.expiresAt) ? Date.parse(req.expiresAt) : NaN;
  if (!Number.isFinite(expires)) return `expiresAt must be an ISO-8601 time, got ${JSON.stringify(req.expiresAt)}`;
  if (expires <= nowMs) return 'expiresAt must be in the future';
  if (expires > nowMs + MAX_OVERRIDE_MS) return 'an override may last at most 30 days';
  return overrideScopeError(req.field, req.strategy, req.asset);
}
