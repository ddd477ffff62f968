/** commitBatch.lua and the partition store, against real Redis: replies and the keys left behind. */
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptRejectedError } from './errors.ts';
import { encodeHistoryEntry, recentChanges } from './history.ts';
import { partitionKeys } from './keys.ts';
import { type BatchCommit, ackOutbox, commitBatch, dueCustomers, outboxLength, readBatchContext, readOutbox, segmentCounts } from './partition-store.ts';

const redis = testRedis();
afterAll(() => redis.quit());

function firstBatch(): BatchCommit {
  return {
    fence: { expected: { orders: null }, next: { orders: '3' } },
    customers: [
      { id: 'alice', version: 0, state: 'S-alice-1', dueAt: 1_000 },
      { id: 'bob', version: 0, state: 'S-bob-1', dueAt: null },
    ],
    changes: ['{"c":1}', '{"c":2}'],
    moves: [
      { customerId: 'alice', dimension: 'stage', from: null, to: 'new' },
      { customerId: 'bob', dimension: 'stage', from: null, to: 'new' },
    ],
  };
}

describe('commitBatch', () => {
  it('writes fence, states, outbox, timers, member sets and counts in one step', async () => {
    const keys = partitionKeys(uniqueName('t'), 0);
    expect(await commitBatch(redis, keys, firstBatch())).toBe(2);

    const ctx = await readBatchContext(redis, keys, ['alice', 'bob', 'carol']);
    expect(ctx.fence).toEqual({ orders: '3' });
    expect(ctx.customers.get('alice')).toEqual({ version: 1, state: 'S-alice-1' });
    expect(ctx.customers.get('carol')).toEqual({ version: 0, state: null });
    expect((await readOutbox(redis, keys, 10)).map((e) => e.change)).toEqual(['{"c":1}', '{"c":2}']);
    expect(await dueCustomers(redis, keys, 1_000, 10)).toEqual(['alice']);
    expect(await dueCustomers(redis, keys, 999, 10)).toEqual([]);
    expect((await redis.smembers(keys.members('stage', 'new'))).sort()).toEqual(['alice', 'bob']);
    expect(await segmentCounts(redis, keys)).toEqual({ 'stage:new': 2 });
  });

  it('moves members between sets, keeps counts equal to cardinalities, and deletes erased customers', async () => {
    const keys = partitionKeys(uniqueName('t'), 1);
    await commitBatch(redis, keys, firstBatch());
    await commitBatch(redis, keys, {
      fence: { expected: { orders: '3' }, next: { orders: '5' } },
      customers: [
        { id: 'alice', version: 1, state: 'S-alice-2', dueAt: null },
        { id: 'bob', version: 1, state: null, dueAt: null },
      ],
      changes: ['{"c":3}'],
      moves: [
        { customerId: 'alice', dimension: 'stage', from: 'new', to: 'repeat' },
        { customerId: 'bob', dimension: 'stage', from: 'new', to: null },
        // A move that repeats what the sets already say changes no count.
        { customerId: 'alice', dimension: 'stage', from: null, to: 'repeat' },
      ],
    });
    expect(await segmentCounts(redis, keys)).toEqual({ 'stage:repeat': 1 });
    expect(await redis.exists(keys.members('stage', 'new'))).toBe(0);
    const ctx = await readBatchContext(redis, keys, ['alice', 'bob']);
    expect(ctx.customers.get('alice')).toEqual({ version: 2, state: 'S-alice-2' });
    expect(ctx.customers.get('bob')).toEqual({ version: 0, state: null });
    expect(await redis.zcard(keys.timers)).toBe(0);
  });

  it('rejects a stale fence or a stale customer version and writes nothing', async () => {
    const keys = partitionKeys(uniqueName('t'), 2);
    await commitBatch(redis, keys, firstBatch());
    const snapshot = async () => ({
      state: await redis.hgetall(keys.state),
      outbox: await redis.xlen(keys.outbox),
      counts: await redis.hgetall(keys.counts),
      fence: await redis.hgetall(keys.fence),
    });
    const before = await snapshot();

    // Redelivered batch: the fence already moved past it.
    await expect(commitBatch(redis, keys, firstBatch())).rejects.toMatchObject({ code: 'STALE_FENCE' });
    // A zombie that read alice at version 0.
    const zombie = { ...firstBatch(), fence: { expected: { orders: '3' }, next: { orders: '4' } } };
    const err = await commitBatch(redis, keys, zombie).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScriptRejectedError);
    expect(err).toMatchObject({ code: 'STATE_CONFLICT' });
    expect(await snapshot()).toEqual(before);
  });

  it('relays: the outbox is read in order and trimmed by id', async () => {
    const keys = partitionKeys(uniqueName('t'), 3);
    await commitBatch(redis, keys, firstBatch());
    const [first] = await readOutbox(redis, keys, 1);
    expect(first?.change).toBe('{"c":1}');
    await ackOutbox(redis, keys, [first?.id ?? '']);
    expect(await outboxLength(redis, keys)).toBe(1);
    expect((await readOutbox(redis, keys, 10)).map((e) => e.change)).toEqual(['{"c":2}']);
  });
});

describe('recent-change history', () => {
  const entry = (n: number) =>
    encodeHistoryEntry({
      id: `c${n}`,
      time: `2026-01-0${n}T00:00:00Z`,
      dimension: 'stage',
      segment: null,
      from: null,
      to: 'new',
      reason: 'r',
      cause: { kind: 'event', topic: 't', partition: 0, offset: String(n), eventId: `e${n}`, dueAt: null },
    });

  it('keeps the newest entries first, trimmed to the length, and clears on request', async () => {
    const keys = partitionKeys(uniqueName('t'), 5);
    const batch = (clear: boolean, ns: number[]) => ({
      ...firstBatch(),
      fence: { expected: {}, next: {} },
      customers: [],
      changes: [],
      moves: [],
      history: { length: 3, writes: [{ customerId: 'alice', clear, entries: ns.map(entry) }] },
    });
    await commitBatch(redis, keys, batch(false, [1, 2]));
    await commitBatch(redis, keys, batch(false, [3, 4]));
    expect((await recentChanges(redis, keys, 'alice', 10)).map((e) => e.id)).toEqual(['c4', 'c3', 'c2']);
    expect((await recentChanges(redis, keys, 'alice', 1))[0]).toMatchObject({ id: 'c4', dimension: 'stage', to: 'new', cause: { offset: '4', eventId: 'e4' } });
    await commitBatch(redis, keys, batch(true, [5]));
    expect((await recentChanges(redis, keys, 'alice', 10)).map((e) => e.id)).toEqual(['c5']);
    await commitBatch(redis, keys, batch(true, []));
    expect(await redis.exists(keys.history('alice'))).toBe(0);
  });
});
