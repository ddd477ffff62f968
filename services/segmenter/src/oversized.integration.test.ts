/**
 * Large bad input never stalls a partition. A batch's dead letters once went out in one
 * request, each about 1.4 times its record (base64): 1,000 bad 1 KiB records, or one bad
 * 800 KB record, made a request the broker refused (max.message.bytes, 1 MiB by default), and
 * the unit was retried forever while the metric counted every retry. Now letters are bounded
 * and go out in bounded requests; each record is dead-lettered and counted once and the fence
 * reaches the end.
 */
import { createHash } from 'node:crypto';
import { DeadLetterEvent, type OrderEvent } from '@crm/contracts';
import { partitionKeys } from '@crm/store';
import { collectMessages } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import type { Segmenter } from './service.ts';
import { createTopics, fixture, waitUntilAllApplied } from './testing/harness.ts';

const order = (customer: string): OrderEvent => ({
  specversion: '1.0',
  id: `big-${customer}`,
  source: 'urn:test',
  type: 'commerce.order.completed',
  time: '2026-06-01T10:00:00Z',
  subject: customer,
  data: { orderId: `o-${customer}`, amountMinor: 1999, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
});
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
/** A JSON object `bytes` long that breaks the contract (no envelope, one long text). */
const badRecord = (bytes: number, n: number) => {
  const head = `{"n":${n},"pad":"`;
  return Buffer.from(`${head}${'x'.repeat(bytes - head.length - 2)}"}`);
};

describe('oversized dead letters', () => {
  const f = fixture({ CRM_PARTITIONS: '1' });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());
  let segmenter: Segmenter | undefined;

  async function deadLetters(count: number): Promise<DeadLetterEvent[]> {
    const dead = await collectMessages(kafka, config.topics.deadLetter, (m) => m.length >= count, 120_000);
    return Promise.all(dead.map(async (m) => DeadLetterEvent.parse(await registry.decode(m.message.value as Buffer))));
  }

  async function deadLetterCount(reason: string): Promise<string | undefined> {
    const text = (await segmenter?.metrics.registry.getSingleMetricAsString('crm_dead_letters_total')) ?? '';
    return new RegExp(`reason="${reason}"} (\\d+)`).exec(text)?.[1];
  }

  it('1,000 bad 1 KiB records in one partition: all dead-lettered once, the fence at the end', async () => {
    await createTopics(kafka, config, 1);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Two requests: 1,000 KiB in one would be refused by the broker on the way in already.
    for (let half = 0; half < 2; half++) {
      const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: badRecord(1024, half * 500 + i) }));
      await producer.send({ topic: config.topics.orders, messages });
    }
    await producer.send({ topic: config.topics.orders, messages: [{ key: 'ann', value: json(order('ann')) }] });
    await producer.disconnect();
    // Started after the records are in, so that its first fetch takes them together.
    segmenter = await f.start();
    await waitUntilAllApplied(kafka, redis, config, 1, 120_000);

    expect(await redis.hget(partitionKeys(config.keyPrefix, 0).state, 'ann')).not.toBeNull();
    const letters = await deadLetters(1000);
    const offsets = new Set(letters.map((l) => l.data.offset));
    expect(offsets.size).toBe(1000);
    expect([...offsets].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(letters.every((l) => l.data.truncated === false && l.data.reason === 'missing_field')).toBe(true);
    expect(await deadLetterCount('missing_field')).toBe('1000');
  }, 180_000);

  it('one bad 800 KB record: dead-lettered with its first bytes, hash and size; the fence moves past it', async () => {
    const value = badRecord(800_000, -1);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: config.topics.orders, messages: [{ key: 'big', value }] });
    await producer.send({ topic: config.topics.orders, messages: [{ key: 'bob', value: json(order('bob')) }] });
    await producer.disconnect();
    await waitUntilAllApplied(kafka, redis, config, 1, 120_000);

    expect(await redis.hget(partitionKeys(config.keyPrefix, 0).state, 'bob')).not.toBeNull();
    const letter = (await deadLetters(1001)).find((l) => l.data.offset === '1001');
    expect(letter?.data).toMatchObject({
      reason: 'missing_field',
      truncated: true,
      size: 800_000,
      sha256: createHash('sha256').update(value).digest('hex'),
      keyBase64: Buffer.from('big').toString('base64'),
    });
    const kept = Buffer.from(letter?.data.valueBase64 ?? '', 'base64');
    expect(kept.length).toBeGreaterThan(200_000);
    expect(kept.equals(value.subarray(0, kept.length))).toBe(true);
    expect(await deadLetterCount('missing_field')).toBe('1001');
  }, 180_000);
});
