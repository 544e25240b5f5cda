/**
 * When strategies look at the market. Calendar rebalancing decides on the first trading day of each
 * period (so the decision never depends on knowing that tomorrow starts a new month) and trades at the
 * next close like every other decision.
 */
export type CalendarPeriod = 'weekly' | 'monthly' | 'quarterly';

export const CALENDAR_PERIODS: readonly CalendarPeriod[] = ['weekly', 'monthly', 'quarterly'];

/** True when `dates[day]` starts a new period relative to the previous trading day. */
export function startsPeriod(dates: readonly string[], day: number, period: CalendarPeriod): boolean {
  if (day === 0) return true;
  return periodKey(dates[day], period) !== periodKey(dates[day - 1], period);
}

function periodKey(date: string, period: CalendarPeriod): string {
  const year = date.slice(0, 4);
  const month = Number(date.slice(5, 7));
  if (period === 'monthly') return date.slice(0, 7);
  if (period === 'quarterly') return `${year}Q${Math.ceil(month / 3)}`;
  // ISO-like week key: days since epoch, shifted so weeks start on Monday (1970-01-05 was a Monday).
  const days = Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
  return String(Math.floor((days - 4) / 7));
}

/** Index of the first day whose date is ≥ `date` (dates ascending); `dates.length` when none. */
export function firstIndexOnOrAfter(dates: readonly string[], date: string): number {
  let lo = 0;
  let hi = dates.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid] < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
