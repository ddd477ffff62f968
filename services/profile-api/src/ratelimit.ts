/**
 * Per-token rate limits: one token bucket per client token (limiter's TokenBucket). A bucket
 * holds up to `burst` requests and refills at `perSecond`; a request takes one or is refused
 * with the whole seconds until one is back (Retry-After). Buckets start full, so a client
 * may send its burst at once after start. One bucket per token of the file: the memory is
 * bounded by the file, never by the callers.
 */
import { TokenBucket } from 'limiter';
import type { RateLimit } from './config.ts';
import type { TokenEntry } from './tokens.ts';

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  /** Buckets for `entries` (by name), each with its own limit or else `defaults`. */
  constructor(entries: readonly TokenEntry[], defaults: RateLimit) {
    for (const e of entries) {
      const perSecond = e.rateLimit.perSecond ?? defaults.perSecond;
      const burst = e.rateLimit.burst ?? defaults.burst;
      const bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval: perSecond, interval: 1000 });
      bucket.content = burst;
      this.buckets.set(e.name, bucket);
    }
  }

  /**
   * Takes one request from the named token's bucket: null when it may go ahead, otherwise the
   * seconds (an integer, at least 1) until the bucket holds one again.
   */
  take(name: string): number | null {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw new Error(`no rate limit for token ${name}`);
    if (bucket.tryRemoveTokens(1)) return null;
    return Math.max(1, Math.ceil(bucket.getWaitTime(1) / 1000));
  }
}
