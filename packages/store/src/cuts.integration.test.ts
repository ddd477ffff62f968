/** The stored RFM cuts against real Redis: what the segmenter writes reads back; a corrupt value is named. */
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { readRfmCuts, writeRfmCuts } from './cuts.ts';
import { globalKeys } from './keys.ts';

describe('stored RFM cuts', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());
  const cuts = { r: [10, 20, 40, 80], f: [1, 1, 2, 4], m: [1_000, 3_000, 9_000, 20_000] };

  it('reads none under a prefix that has none, and what was written (the segmenter writes the same JSON)', async () => {
    const prefix = uniqueName('cuts');
    expect(await readRfmCuts(redis, prefix)).toBeNull();
    await writeRfmCuts(redis, prefix, { cuts, computedAt: '2026-12-03T12:00:00.000Z' });
    expect(JSON.parse((await redis.get(globalKeys(prefix).rfmCuts)) as string)).toEqual({ cuts, computedAt: '2026-12-03T12:00:00.000Z' });
    expect(await readRfmCuts(redis, prefix)).toEqual({ cuts, computedAt: '2026-12-03T12:00:00.000Z' });
    await redis.del(globalKeys(prefix).rfmCuts);
  });

  it('refuses a value that is not cuts, naming the key', async () => {
    const prefix = uniqueName('cuts');
    const key = globalKeys(prefix).rfmCuts;
    await redis.set(key, 'nope');
    await expect(readRfmCuts(redis, prefix)).rejects.toThrow(`${key}: not JSON`);
    await redis.set(key, JSON.stringify({ cuts: { r: [3, 2, 1, 0], f: [1, 2, 3, 4], m: [1, 2, 3, 4] } }));
    await expect(readRfmCuts(redis, prefix)).rejects.toThrow(/not RFM cuts: r: cuts must be non-decreasing/);
    await redis.del(key);
  });
});
