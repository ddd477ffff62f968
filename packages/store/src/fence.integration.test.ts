/** advanceFence-1.lua through its TypeScript wrapper, against real Redis: reply and keys left behind. */
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptRejectedError } from './errors.ts';
import { advanceFence, readFence } from './fence.ts';
import { partitionKeys } from './keys.ts';
import { commandName } from './scripts.ts';

describe('advanceFence', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  it('writes the first fence of a partition', async () => {
    const keys = partitionKeys(uniqueName('t'), 3);
    await advanceFence(redis, keys, { orders: null }, { orders: '42' });
    expect(await readFence(redis, keys)).toEqual({ orders: '42' });
    expect(keys.fence).toMatch(/:\{3\}:fence$/);
  });

  it('advances several topics at once and keeps 64-bit offsets exact', async () => {
    const keys = partitionKeys(uniqueName('t'), 0);
    await advanceFence(redis, keys, { a: null, b: null }, { a: '10', b: '9007199254740993' });
    await advanceFence(redis, keys, { a: '10', b: '9007199254740993' }, { a: '11', b: '9007199254740995' });
    expect(await readFence(redis, keys)).toEqual({ a: '11', b: '9007199254740995' });
  });

  it('refuses a writer that read a fence someone else has moved, and leaves it untouched', async () => {
    const keys = partitionKeys(uniqueName('t'), 1);
    await advanceFence(redis, keys, { orders: null }, { orders: '5' });
    const stale = advanceFence(redis, keys, { orders: null }, { orders: '7' });
    await expect(stale).rejects.toBeInstanceOf(ScriptRejectedError);
    await expect(advanceFence(redis, keys, { orders: '3' }, { orders: '7' })).rejects.toMatchObject({ code: 'STALE_FENCE' });
    expect(await readFence(redis, keys)).toEqual({ orders: '5' });
  });

  it('refuses to move a fence backwards', async () => {
    const keys = partitionKeys(uniqueName('t'), 2);
    await advanceFence(redis, keys, { orders: null }, { orders: '5' });
    await expect(advanceFence(redis, keys, { orders: '5' }, { orders: '4' })).rejects.toMatchObject({ code: 'FENCE_REGRESSION' });
    expect(await readFence(redis, keys)).toEqual({ orders: '5' });
  });

  it('is loaded into Redis once and then called by SHA', async () => {
    const keys = partitionKeys(uniqueName('t'), 4);
    await advanceFence(redis, keys, { x: null }, { x: '1' });
    const before = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    await advanceFence(redis, keys, { x: '1' }, { x: '2' });
    const after = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    expect(after).toBeGreaterThan(before);
    expect(typeof (redis as unknown as Record<string, unknown>)[commandName('advanceFence')]).toBe('function');
  });
});
