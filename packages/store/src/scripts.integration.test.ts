/**
 * Scripts on an auto-pipelining client, against real Redis: registered before the client's
 * first command, a first script call shares a tick's pipeline with other commands and every
 * command gets its own reply; registered lazily it is refused before anything is sent.
 */
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { globalKeys } from './keys.ts';
import { callScript, registerScripts } from './scripts.ts';

describe('callScript on an auto-pipelining client', () => {
  const clients = [testRedis({ enableAutoPipelining: true }), testRedis({ enableAutoPipelining: true })];
  afterAll(() => Promise.all(clients.map((r) => r.quit())));

  it('answers every command of a tick with its own reply when the scripts were registered first', async () => {
    const redis = clients[0] as (typeof clients)[0];
    registerScripts(redis);
    const prefix = uniqueName('autopipe');
    // One tick: a plain command, the client's first script call, more plain commands.
    const before = redis.echo('before');
    const advanced = callScript(redis, 'advanceStreamClock', [globalKeys(prefix).streamClock], [1_700_000_000_000]);
    const after = [redis.echo('after-1'), redis.echo('after-2')];
    expect(await before).toBe('before');
    expect(Number(await advanced)).toBe(1_700_000_000_000);
    expect(await Promise.all(after)).toEqual(['after-1', 'after-2']);
    await redis.del(globalKeys(prefix).streamClock);
  });

  it('refuses a first script call on a client whose scripts were not registered, sending nothing', async () => {
    const redis = clients[1] as (typeof clients)[1];
    const prefix = uniqueName('autopipe');
    await expect(callScript(redis, 'advanceStreamClock', [globalKeys(prefix).streamClock], [1])).rejects.toThrow(
      /enableAutoPipelining needs registerScripts\(client\) before its first command/,
    );
    expect(await redis.exists(globalKeys(prefix).streamClock)).toBe(0);
  });
});
