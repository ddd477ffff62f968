/**
 * Poison input: a batch mixing valid events with garbage bytes, wrong schemas, missing fields,
 * records without a key or keyed by someone else, and absurd event times applies the valid ones
 * and dead-letters each bad one with its reason, once; the consumer never stops, and the
 * customers of the bad records are left exactly as their good events make them.
 */
import { DeadLetterEvent, type OrderEvent, TOPICS, encodeOutput } from '@crm/contracts';
import { partitionKeys } from '@crm/store';
import { collectMessages, waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { expectStatesEqualRecomputation, fixture, readChanges, waitUntilAllApplied } from './testing/harness.ts';

const order = (customer: string, n: number, extra: Partial<OrderEvent['data']> = {}, time = '2026-06-01T10:00:00Z'): OrderEvent => ({
  specversion: '1.0',
  id: `poison-${customer}-${n}`,
  source: 'urn:test',
  type: 'commerce.order.completed',
  time,
  subject: customer,
  data: { orderId: `o-${customer}-${n}`, amountMinor: 1999, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null, ...extra },
});
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('poison input', () => {
  const f = fixture({ CRM_PARTITIONS: '1' });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());

  it('applies the valid events, dead-letters each bad one with its reason, and keeps consuming', async () => {
    const segmenter = await f.start();
    const avro = await encodeOutput(TOPICS.orders, order('ann', 1), registry);
    const { subject: _drop, ...noSubject } = order('zed', 1);
    const bad: Array<{ name: string; key: string | null; value: Buffer; reason: string; field?: string }> = [
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
      { name: 'key differs from subject', key: 'mallory', value: json(order('bob', 7)), reason: 'key_mismatch', field: 'subject' },
      // Without the key check a keyless event would land beside other customers' events and
      // give bob a second state there.
      { name: 'no key', key: null, value: json(order('bob', 6)), reason: 'key_missing', field: 'subject' },
      // One order dated 9999 made a customer emit 15 bogus changes.
      { name: 'dated 9999', key: 'bob', value: json(order('bob', 5, {}, '9999-12-31T23:59:59Z')), reason: 'event_time_future', field: 'time' },
      { name: 'dated 1999', key: 'bob', value: json(order('bob', 4, {}, '1999-12-31T23:59:59Z')), reason: 'event_time_too_old', field: 'time' },
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
      expect(letter?.data).toMatchObject({ topic: config.topics.orders, truncated: false, size: b.value.length });
    }

    const keys = partitionKeys(config.keyPrefix, 0);
    await waitFor('valid events applied', async () => (await redis.hmget(keys.state, 'ann', 'bob')).every((s) => s !== null));
    expect(await redis.hget(keys.fence, config.topics.orders)).toBe(String(bad.length + 2));

    // The consumer did not stop: a later event is applied too.
    await producer.send({ topic: config.topics.orders, messages: [{ key: 'cid', value: json(order('cid', 1)) }] });
    await waitFor('a later event applied', async () => (await redis.hget(keys.state, 'cid')) !== null);
    await producer.disconnect();

    // The customers of the bad records hold exactly what their good events make them.
    const good = [order('ann', 1), order('bob', 1), order('cid', 1)];
    const compared = await expectStatesEqualRecomputation(redis, config, 1, good, Date.now(), (actual, expected, id) => expect(actual, id).toBe(expected));
    expect(compared).toBe(3);

    // Each record counted once under its reason.
    const metrics = await segmenter.metrics.registry.getSingleMetricAsString('crm_dead_letters_total');
    for (const reason of new Set(bad.map((b) => b.reason))) {
      expect(metrics, reason).toContain(`reason="${reason}"} ${bad.filter((b) => b.reason === reason).length}`);
    }
  });
});

describe('an event dated far ahead, on the stream clock', () => {
  const f = fixture({ CRM_PARTITIONS: '1', CRM_CLOCK: 'stream' });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());

  it('is dead-lettered and moves no customer of its partition into its future', async () => {
    await f.start();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // 144 customers with an order each (one dated 2999 once pushed 139 of 144 into year 2999).
    const good = Array.from({ length: 144 }, (_, i) => order(`s${i}`, 1, {}, `2026-06-01T${String(10 + (i % 10)).padStart(2, '0')}:00:00Z`));
    const future = order('s7', 2, {}, '2999-01-01T00:00:00Z');
    const last = order('zz', 1, {}, '2026-06-01T20:00:00Z');
    const send = (events: OrderEvent[]) => producer.send({ topic: config.topics.orders, messages: events.map((e) => ({ key: e.subject, value: json(e) })) });
    await send(good.slice(0, 72));
    await send([future]);
    await send([...good.slice(72), last]);
    await producer.disconnect();
    await waitUntilAllApplied(kafka, redis, config, 1);

    // Every change of the partition (the last customer's included) is dated in 2026.
    const changes = await waitFor('the last customer changed', async () => {
      const all = await readChanges(f);
      return all.some((c) => c.subject === 'zz') && all;
    });
    expect(changes.filter((c) => !c.time.startsWith('2026-')).map((c) => `${c.subject} ${c.time}`)).toEqual([]);
    const compared = await expectStatesEqualRecomputation(redis, config, 1, [...good, last], Date.parse('2026-06-02T00:00:00Z'), (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(145);

    const dead = await collectMessages(kafka, config.topics.deadLetter, (m) => m.length >= 1);
    const letter = DeadLetterEvent.parse(await registry.decode(dead[0]?.message.value as Buffer));
    expect(letter.data).toMatchObject({ reason: 'event_time_future', field: 'time', offset: '72' });
  });
});
