/** commitBatch.lua and the partition store, against real Redis: replies and the keys left behind. */
import { testRedis, uniqueName } from '@crm/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SCRIPT_CODES, ScriptRejectedError } from './errors.ts';
import { prependHistory, recentChanges } from './history.ts';
import { partitionKeys } from './keys.ts';
import type { OutboxRecord } from './outbox-entry.ts';
import { parseStateRecord } from './record.ts';
import { callScript } from './scripts.ts';
import {
  type BatchCommit,
  type OutboxEntry,
  ackOutbox,
  commitBatch,
  dueCustomers,
  nextStreamId,
  outboxLength,
  readBatchContext,
  readOutbox,
  segmentCounts,
} from './partition-store.ts';

const redis = testRedis();
afterAll(() => redis.quit());

const record = (key: string, n: number): OutboxRecord => ({ key, value: Buffer.from([0, n, 0xff]) });
const values = (entries: OutboxEntry[]) => entries.flatMap((e) => e.records.map((r) => [r.key, [...r.value]]));

function firstBatch(): BatchCommit {
  return {
    fence: { expected: { orders: null }, next: { orders: '3' } },
    customers: [
      { id: 'alice', version: 0, state: 'S-alice-1', dueAt: 1_000 },
      { id: 'bob', version: 0, state: 'S-bob-1', dueAt: null },
    ],
    records: [record('alice', 1), record('bob', 2)],
    moves: [
      { customerId: 'alice', dimension: 'stage', from: null, to: 'new' },
      { customerId: 'bob', dimension: 'stage', from: null, to: 'new' },
    ],
  };
}

describe('commitBatch', () => {
  it('writes fence, states, outbox, timers, member sets and counts in one step', async () => {
    const keys = partitionKeys(uniqueName('t'), 0);
    expect(await commitBatch(redis, keys, firstBatch())).toMatchObject({ appended: 2, backlog: 0, lastId: expect.stringMatching(/^\d+-\d+$/) });

    const ctx = await readBatchContext(redis, keys, ['alice', 'bob', 'carol']);
    expect(ctx.fence).toEqual({ orders: '3' });
    expect(ctx.customers.get('alice')).toEqual({ version: 1, state: 'S-alice-1' });
    expect(ctx.customers.get('carol')).toEqual({ version: 0, state: null });
    // Values are binary-safe (Avro), in emission order.
    expect(values(await readOutbox(redis, keys, 10))).toEqual([
      ['alice', [0, 1, 0xff]],
      ['bob', [0, 2, 0xff]],
    ]);
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
      records: [record('alice', 3)],
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

  it('rejects a fence moved backwards (FENCE_REGRESSION) and writes nothing', async () => {
    const keys = partitionKeys(uniqueName('t'), 9);
    await commitBatch(redis, keys, firstBatch());
    const before = await redis.hgetall(keys.state);
    const back: BatchCommit = { ...firstBatch(), customers: [], fence: { expected: { orders: '3' }, next: { orders: '2' } } };
    await expect(commitBatch(redis, keys, back)).rejects.toMatchObject({ code: 'FENCE_REGRESSION' });
    expect([await redis.hgetall(keys.fence), await redis.hgetall(keys.state), await redis.xlen(keys.outbox)]).toEqual([{ orders: '3' }, before, 1]);
  });

  it('takes a record without a version prefix for a conflict, not for an absent customer', async () => {
    const keys = partitionKeys(uniqueName('t'), 10);
    await redis.hset(keys.state, 'alice', 'not a record');
    await expect(commitBatch(redis, keys, firstBatch())).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect([await redis.hget(keys.state, 'alice'), await redis.exists(keys.fence, keys.outbox)]).toEqual(['not a record', 0]);
  });

  it('refuses, writing nothing, a commit its Redis user may not make in full (an ACL missing one command)', async () => {
    // Redis keeps a script's writes when a later command fails: without the check, a user lacking
    // HINCRBY would move the fence and leave the counts behind, and no retry would repair them.
    const prefix = uniqueName('t');
    const user = `${prefix}-user`;
    const password = uniqueName('pw');
    const limited = new Redis({ ...redis.options, username: user, password, lazyConnect: true });
    try {
      for (const command of ['hincrby', 'sadd', 'srem', 'xadd', 'zadd', 'hdel']) {
        await redis.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, `~${prefix}:*`, '+@all', `-${command}`);
        const keys = partitionKeys(prefix, 3);
        await expect(commitBatch(limited, keys, firstBatch()), command).rejects.toThrow(
          new RegExp(`NOPERM commitBatch: this Redis user may not run ${command.toUpperCase()} on .*nothing was written`),
        );
        expect(await redis.exists(keys.state, keys.fence, keys.outbox, keys.timers, keys.counts, keys.members('stage', 'new')), command).toBe(0);
      }
      // With every command it needs, the same user commits.
      await redis.call('ACL', 'SETUSER', user, '+@all');
      expect(await commitBatch(limited, partitionKeys(prefix, 3), firstBatch())).toMatchObject({ appended: 2 });
    } finally {
      limited.disconnect();
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it('relays: the outbox is read in order, trimmed through an id, and a commit reports what was waiting', async () => {
    const keys = partitionKeys(uniqueName('t'), 3);
    const committed = await commitBatch(redis, keys, firstBatch());
    const next = await commitBatch(redis, keys, {
      fence: { expected: { orders: '3' }, next: { orders: '4' } },
      customers: [],
      records: [record('carol', 4)],
      moves: [],
    });
    expect(next).toMatchObject({ appended: 1, backlog: 1 });
    const [first, second] = await readOutbox(redis, keys, 10);
    expect([first?.id, second?.id]).toEqual([committed.lastId, next.lastId]);
    await ackOutbox(redis, keys, first?.id ?? '');
    expect(await outboxLength(redis, keys)).toBe(1);
    expect(values(await readOutbox(redis, keys, 10))).toEqual([['carol', [0, 4, 0xff]]]);
    await ackOutbox(redis, keys, next.lastId ?? '');
    expect(await outboxLength(redis, keys)).toBe(0);
    const none = await commitBatch(redis, keys, { fence: { expected: {}, next: {} }, customers: [], records: [], moves: [] });
    expect(none).toEqual({ appended: 0, backlog: 0, lastId: null });
  });

  it('splits a large commit into entries of at most 1000 records, in order', async () => {
    const keys = partitionKeys(uniqueName('t'), 4);
    const records = Array.from({ length: 2500 }, (_, i) => record(`c${i}`, i % 256));
    expect(await commitBatch(redis, keys, { fence: { expected: {}, next: {} }, customers: [], records, moves: [] })).toMatchObject({
      appended: 2500,
      backlog: 0,
    });
    const entries = await readOutbox(redis, keys, 10);
    expect(entries.map((e) => e.records.length)).toEqual([1000, 1000, 500]);
    expect(values(entries)).toEqual(records.map((r) => [r.key, [...r.value]]));
  });

  it('commits more customers and set members than one command takes (slices of 4000), and reads earlier k/v outbox entries', async () => {
    const keys = partitionKeys(uniqueName('t'), 7);
    // An entry of the earlier outbox format (fields k, v per record), left by a previous version.
    await redis.xadd(keys.outbox, '*', 'k', 'zoe', 'v', Buffer.from([9]));
    const ids = Array.from({ length: 4500 }, (_, i) => `c${i}`);
    const all = (version: number, dueAt: number | null, state: (id: string) => string | null): BatchCommit['customers'] =>
      ids.map((id) => ({ id, version, state: state(id), dueAt }));
    expect(
      await commitBatch(redis, keys, {
        fence: { expected: {}, next: { orders: '1' } },
        customers: all(0, 5, (id) => `S-${id}`),
        records: [record('c0', 1)],
        moves: ids.map((customerId) => ({ customerId, dimension: 'stage', from: null, to: 'new' })),
      }),
    ).toMatchObject({ appended: 1, backlog: 1 });
    expect([await redis.hlen(keys.state), await redis.zcard(keys.timers), await redis.scard(keys.members('stage', 'new'))]).toEqual([4500, 4500, 4500]);
    expect(await segmentCounts(redis, keys)).toEqual({ 'stage:new': 4500 });

    // All move on; the last 500 are erased; the version check covers every one of them.
    const erased = (id: string) => Number(id.slice(1)) >= 4000;
    const moveOn: BatchCommit = {
      fence: { expected: { orders: '1' }, next: { orders: '2' } },
      customers: all(1, null, (id) => (erased(id) ? null : `T-${id}`)),
      records: [],
      moves: ids.map((customerId) => ({ customerId, dimension: 'stage', from: 'new', to: erased(customerId) ? null : 'repeat' })),
    };
    const stale = { ...moveOn, customers: moveOn.customers.map((c) => (c.id === 'c4499' ? { ...c, version: 0 } : c)) };
    await expect(commitBatch(redis, keys, stale)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    await commitBatch(redis, keys, moveOn);
    expect(await redis.hlen(keys.state)).toBe(4000);
    expect(await redis.hget(keys.state, 'c3999')).toBe('2||T-c3999');
    expect([await redis.zcard(keys.timers), await redis.exists(keys.members('stage', 'new'))]).toEqual([0, 0]);
    expect(await segmentCounts(redis, keys)).toEqual({ 'stage:repeat': 4000 });
    expect(values(await readOutbox(redis, keys, 10))).toEqual([
      ['zoe', [9]],
      ['c0', [0, 1, 0xff]],
    ]);
  });

  it('refuses, writing nothing, arguments that do not add up to their section sizes', async () => {
    const keys = partitionKeys(uniqueName('t'), 8);
    // Sizes: 0 expected, 1 next topic, 0 customers, 0 timers set/cleared, 0 groups, 1 entry; but no entry follows.
    const reply = await callScript(
      redis,
      'commitBatch',
      [keys.fence, keys.state, keys.outbox, keys.timers, keys.counts],
      ['0', '1', '0', '0', '0', '0', '1', 'orders', '5'],
      false,
    );
    expect(reply).toBe(SCRIPT_CODES.BAD_ARGUMENT);
    expect(await redis.exists(keys.fence, keys.outbox)).toBe(0);
  });

  it('names the stream id right after another', () => {
    expect(nextStreamId('1700000000000-0')).toBe('1700000000000-1');
    expect(nextStreamId('1700000000000-18446744073709551614')).toBe('1700000000000-18446744073709551615');
  });
});

describe('recent-change history', () => {
  const change = (n: number) => ({
    time: `2026-01-0${n}T00:00:00.000Z`,
    dimension: 'stage',
    segment: null,
    from: null,
    to: 'new',
    reason: 'r',
    cause: { kind: 'event' as const, topic: 't', partition: 0, offset: String(n), eventId: `e${n}`, dueAt: null },
  });

  it("keeps the history in the customer's record: replaced with the state, kept without a new one, gone with the record", async () => {
    const keys = partitionKeys(uniqueName('t'), 5);
    const batch = (version: number, history?: Array<[string, string | null]>, state: string | null = `S-${version + 1}`): BatchCommit => ({
      fence: { expected: {}, next: {} },
      customers: [
        { id: 'alice', version, state, dueAt: null },
        { id: 'bob', version, state: `B-${version + 1}`, dueAt: null },
      ],
      records: [],
      moves: [],
      ...(history === undefined ? {} : { history: history.map(([customerId, packed]) => ({ customerId, packed })) }),
    });
    const first = prependHistory(null, [change(1), change(2)], 3);
    await commitBatch(redis, keys, batch(0, [['alice', first]]));
    expect(await redis.hgetall(keys.state)).toEqual({ alice: `1|${first}|S-1`, bob: '1||B-1' });
    const ctx = await readBatchContext(redis, keys, ['alice', 'bob', 'carol'], true);
    expect(ctx.customers.get('alice')).toEqual({ version: 1, state: 'S-1' });
    expect(ctx.histories).toEqual(
      new Map([
        ['alice', first],
        ['bob', null],
        ['carol', null],
      ]),
    );
    expect((await readBatchContext(redis, keys, ['alice'])).histories).toEqual(new Map());

    // A commit without her history keeps it; a new one replaces it.
    await commitBatch(redis, keys, batch(1));
    expect(await redis.hget(keys.state, 'alice')).toBe(`2|${first}|S-2`);
    await commitBatch(redis, keys, batch(2, [['alice', prependHistory(first, [change(3), change(4)], 3)]]));
    expect((await recentChanges(redis, keys, 'alice', 10)).map((e) => e.cause.offset)).toEqual(['4', '3', '2']);
    expect((await recentChanges(redis, keys, 'alice', 1))[0]).toMatchObject({ dimension: 'stage', to: 'new', cause: { offset: '4', eventId: 'e4' } });
    expect(parseStateRecord(await redis.hget(keys.state, 'alice'))).toEqual({ version: 3, state: 'S-3' });

    // null clears it; a deleted record takes its history along.
    await commitBatch(redis, keys, batch(3, [['alice', null]]));
    expect(await redis.hget(keys.state, 'alice')).toBe('4||S-4');
    await commitBatch(redis, keys, batch(4, [['alice', first]], null));
    expect(await redis.hexists(keys.state, 'alice')).toBe(0);
    expect(await recentChanges(redis, keys, 'alice', 10)).toEqual([]);
  });

  it('refuses, before writing anything, a history for a customer the batch does not write, or one that is not packed', async () => {
    const keys = partitionKeys(uniqueName('t'), 6);
    const orphan: BatchCommit = { ...firstBatch(), history: [{ customerId: 'carol', packed: prependHistory(null, [change(1)], 3) }] };
    await expect(commitBatch(redis, keys, orphan)).rejects.toThrow(/history for carol/);
    const forged: BatchCommit = { ...firstBatch(), history: [{ customerId: 'alice', packed: 'a|b' }] };
    await expect(commitBatch(redis, keys, forged)).rejects.toThrow(/holds a '\|'/);
    expect(await redis.exists(keys.state, keys.fence, keys.outbox)).toBe(0);
  });
});
