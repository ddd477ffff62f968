/** The foundation's proof that the broker is real: a topic we create, a message that makes the round trip. */
import { collectMessages, createTopic, testKafka, uniqueName } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('Kafka broker', () => {
  const kafka = testKafka();
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('creates a topic with the asked partition count', async () => {
    const topic = uniqueName('foundation-create');
    await createTopic(admin, topic, 3);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });

  it('does not create topics on first use (auto-creation is off)', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: uniqueName('never-created'), messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it('delivers produced messages, keyed and with headers, to a consumer group', async () => {
    const topic = uniqueName('foundation-roundtrip');
    await createTopic(admin, topic, 2);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `customer-${i % 5}`, value: JSON.stringify({ n: i }), headers: { ce_id: `evt-${i}` } }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const got = await collectMessages(kafka, topic, (m) => m.length >= sent.length);
    expect(got.map((m) => JSON.parse(m.message.value?.toString() ?? '{}').n).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    // Same key, same partition: the property co-partitioning rests on.
    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of got) {
      const key = m.message.key?.toString() ?? '';
      partitionOfKey.set(key, (partitionOfKey.get(key) ?? new Set()).add(m.partition));
      expect(m.message.headers?.['ce_id']?.toString()).toMatch(/^evt-\d+$/);
    }
    for (const parts of partitionOfKey.values()) expect(parts.size).toBe(1);
  });
});
