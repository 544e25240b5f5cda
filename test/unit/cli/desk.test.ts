/** The desk commands' pure parts: the expiry flag, and the status line's pending-approvals field. */
import { expiryAt } from '../../../cli/desk';
import { InvalidValue } from '../../../cli/flags';
import { pendingApprovals } from '../../../processes/all';
import type { Recommendation } from '../../../risk/approval';

test('--expires takes an ISO-8601 time or a duration from now', () => {
  const now = Date.parse('2026-11-29T15:00:00Z');
  expect(expiryAt('2026-12-01T18:00:00Z', now)).toBe('2026-12-01T18:00:00.000Z');
  expect(expiryAt('2h', now)).toBe('2026-11-29T17:00:00.000Z');
  expect(expiryAt('30m', now)).toBe('2026-11-29T15:30:00.000Z');
  expect(() => expiryAt('tomorrow', now)).toThrow(InvalidValue);
});

test('the status line names the pending approval and when it expires', () => {
  const now = Date.parse('2026-11-29T15:00:00Z');
  expect(pendingApprovals(undefined, now)).toBe('approvals pending 0');
  expect(pendingApprovals({ pendingRecommendation: null }, now)).toBe('approvals pending 0');
  const rec = { id: 'demo-c42', expiresAtMs: now + 42 * 60_000 } as Recommendation;
  expect(pendingApprovals({ pendingRecommendation: rec }, now)).toBe('approvals pending 1 (demo-c42, expires in 42 min)');
});
