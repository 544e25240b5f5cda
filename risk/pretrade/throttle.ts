/**
 * The message throttle (FIA's "order entry message throttle"): token buckets per caller identity and
 * per portfolio. Pure and O(1) per order: the clock is passed in, nothing is awaited or written.
 *
 * A bucket holds at most `burst` tokens and gains `ratePerSecond` a second; an order takes one token
 * from its caller's bucket and one from its portfolio's, or none when either is empty (so an order
 * the portfolio throttles does not also use up its caller's rate, and vice versa).
 */
import type { TradingState } from '../kinds';
import type { Evaluation, OrderRequest } from './checks';

export interface RateLimit {
  /** Sustained orders per second. */
  readonly ratePerSecond: number;
  /** Orders that may arrive at once after a quiet spell (the bucket's size). */
  readonly burst: number;
}

export interface ThrottleConfig {
  /** Per caller (the verified certificate identity, else the unverified label); undefined: no caller throttle. */
  readonly perCaller?: RateLimit;
  /** Per portfolio, across callers; undefined: no portfolio throttle. */
  readonly perPortfolio?: RateLimit;
  /** Most buckets kept per kind; beyond it the oldest is dropped (bounds memory under many peers). Default 10 000. */
  readonly maxBuckets?: number;
}

/** Which bucket refused an order. */
export type ThrottledBy = 'caller' | 'portfolio';

interface Bucket {
  tokens: number;
  atMs: number;
}

/** The valid form of a rate limit, or the reason it is not. */
export function rateLimitError(limit: RateLimit): string | undefined {
  if (!(Number.isFinite(limit.ratePerSecond) && limit.ratePerSecond > 0))
    return `rate must be a positive number, got ${limit.ratePerSecond}`;
  if (!(Number.isFinite(limit.burst) && limit.burst >= 1)) return `burst must be at least 1, got ${limit.burst}`;
  return undefined;
}

/** "RATE" or "RATE/BURST" (orders per second, burst defaults to one second of rate, at least 1). */
export function parseRateLimit(text: string): RateLimit {
  const [rate, burst] = text.split('/').map(Number);
  const limit = { ratePerSecond: rate, burst: burst ?? Math.max(1, rate) };
  const error = text.split('/').length > 2 ? `expected RATE or RATE/BURST, got "${text}"` : rateLimitError(limit);
  if (error) throw new Error(`throttle: ${error}`);
  return limit;
}

class Buckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxBuckets: number,
  ) {}

  /** The key's bucket, refilled to `nowMs` (a new key starts full). */
  refilled(key: string, nowMs: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: this.limit.burst, atMs: nowMs };
      this.buckets.set(key, b);
      return b;
    }
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, nowMs - b.atMs);
    b.tokens = Math.min(this.limit.burst, b.tokens + (elapsedMs * this.limit.ratePerSecond) / 1000);
    b.atMs = Math.max(b.atMs, nowMs);
    return b;
  }
}

export class OrderThrottle {
  private readonly callers: Buckets | undefined;
  private readonly portfolios: Buckets | undefined;

  constructor(config: ThrottleConfig) {
    const max = config.maxBuckets ?? 10_000;
    for (const limit of [config.perCaller, config.perPortfolio]) {
      const error = limit && rateLimitError(limit);
      if (error) throw new Error(`throttle: ${error}`);
    }
    this.callers = config.perCaller && new Buckets(config.perCaller, max);
    this.portfolios = config.perPortfolio && new Buckets(config.perPortfolio, max);
  }

  /** Takes a token from both buckets and answers undefined, or takes none and names the empty one. */
  admit(caller: string, portfolioId: string, nowMs: number): ThrottledBy | undefined {
    const c = this.callers?.refilled(caller, nowMs);
    if (c && c.tokens < 1) return 'caller';
    const p = this.portfolios?.refilled(portfolioId, nowMs);
    if (p && p.tokens < 1) return 'portfolio';
    if (c) c.tokens -= 1;
    if (p) p.tokens -= 1;
    return undefined;
  }
}

/** The denial of a throttled order: a hard reason with no limit figures, nothing reserved. */
export function throttleDenial(order: OrderRequest, by: ThrottledBy, version: number, state: TradingState): Evaluation {
  return {
    approved: false,
    reasons: ['ORDER_RATE_THROTTLED'],
    explanations: [{ reason: 'ORDER_RATE_THROTTLED', scope: 'PORTFOLIO', strategy: '', instrument: '', overridden: false }],
    detail:
      by === 'caller'
        ? 'this caller sends orders faster than its message throttle allows: resend later'
        : `portfolio "${order.portfolioId}" receives orders faster than its message throttle allows: resend later`,
    version,
    state,
    warnings: [],
  };
}
