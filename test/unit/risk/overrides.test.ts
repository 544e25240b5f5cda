import { MAX_OVERRIDE_MS, overrideRequestError } from '../../../risk/overrides';
import type { LimitOverrideRequest } from '../../../risk/budget';

const NOW = Date.parse('2026-01-05T10:00:00Z');
const valid: LimitOverrideRequest = {
  field: 'maxGrossNotional',
  value: 1e6,
  reason: 'month end',
  approver: 'alice',
  expiresAt: new Date(NOW + 3_600_000).toISOString(),
};

describe('the one override rule', () => {
  it('accepts a well-formed request', () => {
    expect(overrideRequestError(valid, NOW)).toBeNull();
  });

  it.each<[string, Partial<LimitOverrideRequest> | undefined, RegExp]>([
    ['no request', undefined, /required/],
    ['an unknown field', { field: 'priceCollar' as never }, /field must be one of/],
    ['a negative value', { value: -1 }, /finite number >= 0/],
    ['a NaN value', { value: Number.NaN }, /finite number >= 0/],
    ['no reason', { reason: '  ' }, /reason must be/],
    ['a reason too long', { reason: 'x'.repeat(1_001) }, /reason must be/],
    ['no approver', { approver: '' }, /approver is required/],
    ['a date that is not ISO', { expiresAt: 'tomorrow' }, /ISO-8601/],
    ['an expiry in the past', { expiresAt: new Date(NOW - 1).toISOString() }, /in the future/],
    ['an expiry beyond 30 days', { expiresAt: new Date(NOW + MAX_OVERRIDE_MS + 1_000).toISOString() }, /at most 30 days/],
    ['a position limit without an asset', { field: 'maxPositionNotional' }, /needs an asset/],
    ['an order limit with a scope', { field: 'maxOrderNotional', strategy: 'trend' }, /portfolio-wide/],
    ['a gross limit on an asset', { asset: 'GOLD' }, /strategy or the portfolio/],
  ])('refuses %s', (_name, change, message) => {
    const req = change === undefined ? undefined : { ...valid, ...change };
    expect(overrideRequestError(req as LimitOverrideRequest, NOW)).toMatch(message);
  });
});
