/**
 * The regime timeline as the page draws it: probability series per regime on one time axis, regime
 * bands (from the switches the loop recorded), version markers and override bands, all clipped to
 * the window. Shaping only; the rows come from ConsoleReadStore.regimeTimeline.
 */
import type { RegimeTimelineRows } from '../db/stores/consoleReads';

export interface RegimeTimeline {
  readonly from: string;
  readonly to: string;
  readonly bucketSeconds: number;
  /** Regime names in the order they first appear (probabilities, then bands). */
  readonly regimes: string[];
  readonly probabilities: { readonly at: string[]; readonly byRegime: Record<string, (number | null)[]> };
  readonly bands: { readonly regime: string; readonly from: string; readonly to: string }[];
  readonly versions: { readonly version: number; readonly committedAt: string; readonly regime: string; readonly reason: string | null }[];
  readonly overrides: {
    readonly id: number;
    readonly scope: string;
    readonly field: string;
    readonly value: number;
    readonly reason: string;
    readonly approver: string;
    readonly from: string;
    readonly to: string;
    readonly ended: 'active' | 'expired' | 'revoked';
  }[];
}

export function regimeTimeline(rows: RegimeTimelineRows, since: Date, until: Date, bucketSeconds: number): RegimeTimeline {
  const clip = (d: Date): string => new Date(Math.min(until.getTime(), Math.max(since.getTime(), d.getTime()))).toISOString();
  const regimes: string[] = [];
  const see = (r: string): void => {
    if (!regimes.includes(r)) regimes.push(r);
  };
  const at = [...new Set(rows.probabilities.map((p) => p.at.toISOString()))];
  const slot = new Map(at.map((t, i) => [t, i]));
  rows.probabilities.forEach((p) => see(p.regime));
  const byRegime: Record<string, (number | null)[]> = Object.fromEntries(regimes.map((r) => [r, at.map(() => null)]));
  for (const p of rows.probabilities) byRegime[p.regime][slot.get(p.at.toISOString())!] = p.probability;

  // The regime the window opens in: the last switch before it, else the first switch's origin, else the budget's.
  const opening = rows.changeBefore?.to ?? rows.changes[0]?.from ?? rows.regimeBefore;
  const starts = [...(opening ? [{ regime: opening, at: since }] : []), ...rows.changes.map((c) => ({ regime: c.to, at: c.detectedAt }))];
  const bands = starts.map((s, i) => ({
    regime: s.regime,
    from: clip(s.at),
    to: clip(i + 1 < starts.length ? starts[i + 1].at : until),
  }));
  bands.forEach((b) => see(b.regime));

  return {
    from: since.toISOString(),
    to: until.toISOString(),
    bucketSeconds,
    regimes,
    probabilities: { at, byRegime },
    bands: bands.filter((b) => b.from < b.to),
    versions: rows.versions.map((v) => ({ ...v, committedAt: v.committedAt.toISOString() })),
    overrides: rows.overrides.map((o) => {
      const end = o.revokedAt && o.revokedAt < o.expiresAt ? o.revokedAt : o.expiresAt;
      return {
        id: o.id,
        scope: [o.strategy, o.asset].filter(Boolean).join('/') || 'portfolio',
        field: o.field,
        value: o.value,
        reason: o.reason,
        approver: o.approver,
        from: clip(o.createdAt),
        to: clip(end),
        ended: end > until ? 'active' : o.revokedAt && o.revokedAt < o.expiresAt ? 'revoked' : 'expired',
      };
    }),
  };
}
