/** advanceStreamClock-1.lua through its TypeScript wrapper, against real Redis: max semantics, races, bad values. */
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { globalKeys } from './keys.ts';
import { callScript } from './scripts.ts';
import { advanceStreamClock, readStreamClock } from './stream-clock.ts';

describe('advanceStreamClock', () => {
  const redis = testRedis();
  const others = [testRedis(), testRedis(), testRedis()];
  afterAll(() => Promise.all([redis, ...others].map((r) => r.quit())));

  it('starts the clock, moves it forward, and never back', async () => {
    const prefix = uniqueName('clock');
    expect(await readStreamClock(redis, prefix)).toBeNull();
    expect(await advanceStreamClock(redis, prefix, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(await advanceStreamClock(redis, prefix, 1_600_000_000_000)).toBe(1_700_000_000_000);
    expect(await advanceStreamClock(redis, prefix, 1_700_000_000_001)).toBe(1_700_000_000_001);
    expect(await redis.get(globalKeys(prefix).streamClock)).toBe('1700000000001');
    expect(await readStreamClock(redis, prefix)).toBe(1_700_000_000_001);
  });

  it('holds the maximum when members advance it concurrently, and no reader sees it go back', async () => {
    const prefix = uniqueName('clock');
    const candidates = Array.from({ length: 4 }, (_, m) => Array.from({ length: 150 }, (_, i) => 1_000_000 + ((i * 7919 + m * 104_729) % 100_000)));
    const seen: number[] = [];
    let advancing = true;
    const reader = (async () => {
      while (advancing) seen.push((await readStreamClock(redis, prefix)) ?? 0);
    })();
    const replies = await Promise.all(
      candidates.map((list, m) => Promise.all(list.map((c) => advanceStreamClock(others[m % others.length] ?? redis, prefix, c).then((r) => [c, r] as const)))),
    );
    advancing = false;
    await reader;
    // Every reply is at least its own candidate: the clock after the call.
    for (const [c, r] of replies.flat()) expect(r).toBeGreaterThanOrEqual(c);
    expect(await readStreamClock(redis, prefix)).toBe(Math.max(...candidates.flat()));
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
  });

  it('refuses a candidate that is not epoch milliseconds, and leaves the clock untouched', async () => {
    const prefix = uniqueName('clock');
    await advanceStreamClock(redis, prefix, 5_000);
    await expect(advanceStreamClock(redis, prefix, -1)).rejects.toBeInstanceOf(RangeError);
    await expect(advanceStreamClock(redis, prefix, 1.5)).rejects.toBeInstanceOf(RangeError);
    // The script checks for itself too (a caller bypassing the wrapper).
    const key = globalKeys(prefix).streamClock;
    expect(await callScript(redis, 'advanceStreamClock', [key], ['12abc'])).toBe(-4);
    expect(await callScript(redis, 'advanceStreamClock', [key], ['1e20'])).toBe(-4);
    expect(await readStreamClock(redis, prefix)).toBe(5_000);
  });

  it('names the key when the stored value is not epoch milliseconds', async () => {
    const prefix = uniqueName('clock');
    await redis.set(globalKeys(prefix).streamClock, 'yesterday');
    await expect(readStreamClock(redis, prefix)).rejects.toThrow(`${prefix}:stream-clock: not epoch milliseconds`);
  });
});
