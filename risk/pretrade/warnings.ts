/**
 * Graduated escalation: the limits an approved order took to or past the warning level (checks.ts
 * lists them), turned into one alert per crossing. A limit that warned stays quiet until an approved
 * order that covers it finds it back below the level (re-armed), so a book sitting at 85 % raises one
 * alert, not one per order. Pure: memory only, O(limits in warning) per approval.
 */
import type { Alert } from '../records';
import type { Explanation, Reason } from './reasons';

/** The limits whose post-trade level is checked against the warning level (cumulative ones only). */
export const WARNED_REASONS: readonly Reason[] = [
  'POSITION_LIMIT',
  'STRATEGY_BUDGET',
  'GROSS_EXPOSURE',
  'NET_EXPOSURE',
  'VOL_LIMIT',
  'RISK_BUDGET',
];

export const DEFAULT_WARNING_LEVEL = 0.8;

/** What the latch needs of an order (checks.ts's OrderRequest has it). */
type OrderScope = { readonly portfolioId: string; readonly strategy: string; readonly instrument: string };

/** One limit of one portfolio: its reason and the strategy / instrument its scope names. */
const limitKey = (e: Pick<Explanation, 'reason' | 'strategy' | 'instrument'>): string =>
  `${e.reason}\u0000${e.strategy}\u0000${e.instrument}`;

/** Whether an order is checked against the limit that key names (so its evaluation saw that limit's level). */
function covers(key: string, order: OrderScope): boolean {
  const [, strategy, instrument] = key.split('\u0000');
  if (strategy !== '' && strategy !== order.strategy) return false;
  return instrument === '' || instrument === order.instrument;
}

export class WarningLatch {
  /** Per portfolio: the limits in warning (already alerted, not yet re-armed). */
  private readonly warned = new Map<string, Map<string, Explanation>>();

  /**
   * Called for each approved order with the limits it took to or past the level: returns those that
   * just crossed (alert them), and re-arms the limits the order was checked against that are below now.
   */
  crossings(order: OrderScope, warnings: readonly Explanation[]): readonly Explanation[] {
    let warned = this.warned.get(order.portfolioId);
    if (!warned && warnings.length === 0) return NONE;
    if (!warned) this.warned.set(order.portfolioId, (warned = new Map()));
    for (const key of warned.keys()) {
      if (covers(key, order) && !warnings.some((w) => limitKey(w) === key)) warned.delete(key);
    }
    let crossed: Explanation[] | undefined;
    for (const w of warnings) {
      const key = limitKey(w);
      if (warned.has(key)) continue;
      warned.set(key, w);
      (crossed ??= []).push(w);
    }
    return crossed ?? NONE;
  }

  /** The limits of a portfolio in warning now (for the gauge). */
  inWarning(portfolioId: string): number {
    return this.warned.get(portfolioId)?.size ?? 0;
  }
}

const NONE: readonly Explanation[] = Object.freeze([]);

/** The alert of one crossing (severity warning); its key is unique per replica, limit and instant. */
export function limitWarningAlert(replica: string, portfolioId: string, w: Explanation, level: number, nowMs: number): Alert {
  const where = [w.strategy, w.instrument].filter((x) => x !== '').join('/') || 'portfolio';
  const used = w.limit ? Math.abs(w.postTrade ?? 0) / w.limit : 0;
  return {
    idempotencyKey: `limit-warning:${replica}:${portfolioId}:${w.reason}:${where}:${nowMs}`,
    portfolioId,
    severity: 'warning',
    kind: 'limit-warning',
    message: `${w.reason} of ${where} at ${(used * 100).toFixed(1)} % of its limit after an approved order (warning level ${(level * 100).toFixed(0)} %)`,
    details: { ...w, level, utilization: used, replica },
  };
}
