/**
 * Poison input: a batch mixing valid events with garbage bytes, wrong schemas and missing
 * fields applies the valid ones and dead-letters each bad one with its reason; the consumer
 * never stops.
 */
import { DeadLetterEvent, type OrderEvent, TOPICS, encodeOutput } from '@crm/contracts';
import { partitionKeys } from '@crm/store';
import { collectMessages, waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from './testing/harness.ts';

const order = (customer: string, n: number, extra: Partial<OrderEvent['data']> = {}): OrderEvent => ({
  specversion: '1.0',
  id: `poison-${customer}-${n}`,
  source: 'urn:test',
  type: 'commerce.order.completed',
  time: '2026-06-01T10:00:00Z',
  subject: customer,
  data: { orderId: `o-${customer}-${n}`, amountMinor: 1999, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null, ...extra },
});

describe('poison input', () => {
  const f = fixture({ CRM_PARTITIONS: '1' });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());

  it('applies the valid events, dead-letters each bad one with its reason, and keeps consuming', async () => {
    const segmenter = await f.start();
    const avro = await encodeOutput(TOPICS.orders, order('ann', 1), registry);
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    const { subject: _drop, ...noSubject } = order('zed', 1);
    const bad: Array<{ name: string; key: string; value: Buffer; reason: string; field?: string }> = [
      { name: 'garbage bytes', key: 'x1', value: Buffer.from([0xff, 0x13, 0x37]), reason: 'unknown_format' },
      { name: 'unknown schema id', key: 'x2', value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), avro.subarray(5)]), reason: 'unknown_schema' },
      { name: 'truncated Avro', key: 'ann', value: avro.subarray(0, avro.length - 7), reason: 'truncated' },
      {
        name: 'an interaction on the orders topic',
        key: 'x3',
        value: json({ ...order('x3', 1), type: 'service.interaction.recorded' }),
        reason: 'wrong_topic',
      },
      { name: 'missing customer id', key: 'zed', value: json(noSubject), reason: 'missing_field', field: 'subject' },
      { name: 'negative amount', key: 'bob', value: json(order('bob', 9, { amountMinor: -5 })), reason: 'invalid_field', field: 'data.amountMinor' },
      { name: 'impossible date', key: 'bob', value: json({ ...order('bob', 8), time: '2026-02-30T10:00:00Z' }), reason: 'invalid_field', field: 'time' },
      { name: 'key differs from subject', key: 'mallory', value: json(order('bob', 7)), reason: 'invalid_field', field: 'subject' },
    ];
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: config.topics.orders,
      messages: [
        { key: 'ann', value: avro },
        ...bad.map((b) => ({ key: b.key, value: b.value, headers: { case: b.name } })),
        { key: 'bob', value: json(order('bob', 1)) },
      ],
    });

    const dead = await collectMessages(kafka, config.topics.deadLetter, (m) => m.length >= bad.length);
    const letters = await Promise.all(dead.map(async (m) => DeadLetterEvent.parse(await registry.decode(m.message.value as Buffer))));
    const byCase = new Map(letters.map((l) => [Buffer.from(l.data.headers.find((h) => h.key === 'case')?.value ?? '', 'base64').toString(), l]));
    for (const b of bad) {
      const letter = byCase.get(b.name);
      expect(letter, b.name).toBeDefined();
      expect(letter?.data.reason, b.name).toBe(b.reason);
      if (b.field) expect(letter?.data.field, b.name).toBe(b.field);
      // Nothing is lost: the original bytes and coordinates travel with the reason.
      expect(Buffer.from(letter?.data.valueBase64 ?? '', 'base64').equals(b.value), b.name).toBe(true);
      expect(letter?.data.topic).toBe(config.topics.orders);
    }

    const keys = partitionKeys(config.keyPrefix, 0);
    await waitFor('valid events applied', async () => (await redis.hmget(keys.state, 'ann', 'bob')).every((s) => s !== null));
    expect(await redis.hget(keys.fence, config.topics.orders)).toBe(String(bad.length + 2));

    // The consumer did not stop: a later event is applied too.
    await producer.send({ topic: config.topics.orders, messages: [{ key: 'cid', value: json(order('cid', 1)) }] });
    await waitFor('a later event applied', async () => (await redis.hget(keys.state, 'cid')) !== null);
    await producer.disconnect();
    const metrics = await segmenter.metrics.registry.getSingleMetricAsString('crm_dead_letters_total');
    expect(metrics).toMatch(/reason="unknown_format"} 1/);
  });
});
