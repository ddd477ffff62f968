/** The bench's floor against the real servers: floorCommit-2.lua's reply and keys, and a whole floor run. */
import { TOPICS } from '@crm/contracts';
import { createTopic, testKafka, testRedis, testRegistry, uniqueName } from '@crm/testkit';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { avroEncoder, inputEvents, topicOf } from './data.ts';
import { floorCommitter, floorConsume, floorKeys, removeFloorKeys } from './floor.ts';

const FETCH = { maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100, partitionsConsumedConcurrently: 3 };

describe('floorCommit-2.lua', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  it('writes the values and moves the fence when the fence is where it was read', async () => {
    const keys = floorKeys(uniqueName('floor'), 0);
    const commit = await floorCommitter(redis);
    await commit(
      keys,
      'orders',
      null,
      '3',
      new Map([
        ['c1', 'a'],
        ['c2', 'b'],
      ]),
    );
    await commit(keys, 'orders', '3', '5', new Map([['c1', 'c']]));
    expect(await redis.hgetall(keys.fence)).toEqual({ orders: '5' });
    expect(await redis.hgetall(keys.values)).toEqual({ c1: 'c', c2: 'b' });
    await redis.unlink(keys.fence, keys.values);
  });

  it('refuses a commit whose fence moved since it was read, writing nothing', async () => {
    const keys = floorKeys(uniqueName('floor'), 1);
    const commit = await floorCommitter(redis);
    await commit(keys, 'orders', null, '3', new Map([['c1', 'a']]));
    await expect(commit(keys, 'orders', null, '4', new Map([['c1', 'x']]))).rejects.toThrow(/STALE_FENCE/);
    await expect(commit(keys, 'orders', '2', '4', new Map([['c9', 'x']]))).rejects.toThrow(/STALE_FENCE/);
    expect(await redis.hgetall(keys.fence)).toEqual({ orders: '3' });
    expect(await redis.hgetall(keys.values)).toEqual({ c1: 'a' });
    await redis.unlink(keys.fence, keys.values);
  });

  it('takes a batch larger than one Lua call can unpack', async () => {
    const keys = floorKeys(uniqueName('floor'), 2);
    const commit = await floorCommitter(redis);
    const values = new Map(Array.from({ length: 6000 }, (_, i) => [`c${i}`, `v${i}`] as const));
    await commit(keys, 'orders', null, '6000', values);
    expect(await redis.hlen(keys.values)).toBe(6000);
    expect(await redis.hget(keys.values, 'c5999')).toBe('v5999');
    await redis.unlink(keys.fence, keys.values);
  });
});

describe('floorConsume', () => {
  const redis = testRedis();
  const kafka = testKafka();
  afterAll(() => redis.quit());

  it('consumes, decodes and commits every record of an Avro log, fence at the log end', async () => {
    const prefix = uniqueName('floor');
    const orders = `${TOPICS.orders}.${prefix}`;
    const interactions = `${TOPICS.interactions}.${prefix}`;
    const profiles = `${TOPICS.profiles}.${prefix}`;
    const actual = { [TOPICS.orders]: orders, [TOPICS.interactions]: interactions, [TOPICS.profiles]: profiles };
    const admin = kafka.admin();
    await admin.connect();
    for (const t of [orders, interactions, profiles]) await createTopic(admin, t, 2);
    const encode = await avroEncoder(testRegistry());
    const events = [...inputEvents({ count: 500, seed: 7, idPrefix: 'f', end: Date.now(), days: 365 })];
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (const e of events) await producer.send({ topic: actual[topicOf(e)], messages: [{ key: e.subject, value: encode(topicOf(e), e) }] });
    await producer.disconnect();
    try {
      const result = await floorConsume(kafka, redis, actual, prefix, events.length, FETCH, { kafka: null, redis: null });
      expect(result.eps).toBeGreaterThan(0);
      let fenced = 0;
      let customers = 0;
      for (const p of [0, 1]) {
        const k = floorKeys(prefix, p);
        fenced += Object.values(await redis.hgetall(k.fence)).reduce((a, v) => a + Number(v), 0);
        customers += await redis.hlen(k.values);
      }
      expect(fenced).toBe(events.length);
      expect(customers).toBe(new Set(events.map((e) => e.subject)).size);
    } finally {
      await removeFloorKeys(redis, prefix, 2);
      await admin.deleteTopics({ topics: [orders, interactions, profiles] });
      await admin.disconnect();
    }
  });
});
