import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from './ratelimit.ts';
import { type TokenEntry, SCOPES } from './tokens.ts';

const entry = (name: string, rateLimit: TokenEntry['rateLimit'] = {}): TokenEntry => ({
  token: `tok_${name.padEnd(22, '0')}`,
  name,
  scopes: SCOPES,
  rateLimit,
});

describe('RateLimiter', () => {
  // The buckets refill by performance.now(): a fake clock moves it.
  beforeEach(() => vi.useFakeTimers({ toFake: ['performance', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('lets a full bucket through, then answers the whole seconds until the next request', () => {
    const limiter = new RateLimiter([entry('a')], { perSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) expect(limiter.take('a')).toBeNull();
    expect(limiter.take('a')).toBe(1);
    vi.advanceTimersByTime(499);
    expect(limiter.take('a')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(limiter.take('a')).toBeNull();
    expect(limiter.take('a')).toBe(1);
  });

  it('refills no further than the burst', () => {
    const limiter = new RateLimiter([entry('a')], { perSecond: 10, burst: 2 });
    vi.advanceTimersByTime(60_000);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([null, null, 1]);
  });

  it("keeps one bucket per token, with a token's own limit over the default", () => {
    const limiter = new RateLimiter([entry('slow', { perSecond: 0.1 }), entry('small', { burst: 1 }), entry('default')], { perSecond: 1, burst: 2 });
    expect([limiter.take('slow'), limiter.take('slow'), limiter.take('slow')]).toEqual([null, null, 10]);
    expect([limiter.take('small'), limiter.take('small')]).toEqual([null, 1]);
    expect([limiter.take('default'), limiter.take('default'), limiter.take('default')]).toEqual([null, null, 1]);
    vi.advanceTimersByTime(4_000);
    expect(limiter.take('slow')).toBe(6);
  });

  it('refuses a token it has no bucket for', () => {
    expect(() => new RateLimiter([], { perSecond: 1, burst: 1 }).take('a')).toThrow(/no rate limit for token a/);
  });
});
