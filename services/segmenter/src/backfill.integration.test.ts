/**
 * Backfill: history already in the topics is rebuilt into state without emitting a change for
 * any of it; then the service goes live and emits changes for what happens next.
 */
import { type InputEvent, SegmentChangeEvent } from '@crm/contracts';
import { type CustomerState, apply, decodeState, encodeState, evaluate } from '@crm/domain';
import { partitionKeys, readBatchContext } from '@crm/store';
import { DAY_MS, generateEvents, readTopic, testKafka, testRedis, waitFor } from '@crm/testkit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import type { Segmenter } from './service.ts';
import { isolatedEnv, startInProcess } from './testing/harness.ts';
import { ensureTopics } from './topics.ts';

describe('backfill mode', () => {
  const { config, env } = isolatedEnv({ CRM_MODE: 'backfill', CRM_PARTITIONS: '2' });
  const kafka = testKafka();
  const redis = testRedis();
  let segmenter: Segmenter;

  afterAll(async () => {
    await segmenter?.stop();
    await redis.quit();
  });

  it('rebuilds history quietly, then goes live', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const history = generateEvents({ seed: 3, customers: 40, events: 1_500, start: now - 700 * DAY_MS, end: now - 2 * DAY_MS, prefix: 'h' });
    const topicOf = (e: InputEvent) =>
      e.type.startsWith('commerce.') ? config.topics.orders : e.type.startsWith('service.') ? config.topics.interactions : config.topics.profiles;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(
      admin,
      [config.topics.orders, config.topics.interactions, config.topics.profiles, config.topics.segmentChanges, config.topics.deadLetter],
      2,
    );
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const topic of [config.topics.profiles, config.topics.orders, config.topics.interactions]) {
      const messages = history.filter((e) => topicOf(e) === topic).map((e) => ({ key: e.subject, value: JSON.stringify(e) }));
      await producer.send({ topic, acks: -1, messages });
    }

    segmenter = await startInProcess(config);
    expect(segmenter.mode()).toBe('backfill');
    await waitFor('the switch to live', () => segmenter.mode() === 'live', { timeoutMs: 60_000 });

    // Every customer of the history has state; no history event caused an emitted change.
    const byCustomer = new Map<string, InputEvent[]>();
    for (const e of history) byCustomer.set(e.subject, [...(byCustomer.get(e.subject) ?? []), e]);
    const T = Date.now() + DAY_MS;
    for (let p = 0; p < 2; p++) {
      const keys = partitionKeys(config.keyPrefix, p);
      const ids = await redis.hkeys(keys.state);
      const ctx = await readBatchContext(redis, keys, ids);
      for (const id of ids) {
        let batch: CustomerState | null = null;
        for (const e of byCustomer.get(id) ?? []) batch = apply(batch, e, config.domain).state;
        const stored = decodeState(ctx.customers.get(id)?.state as string);
        expect(encodeState(evaluate(stored, T, config.domain).state), id).toBe(encodeState(evaluate(batch as CustomerState, T, config.domain).state));
        byCustomer.delete(id);
      }
    }
    expect([...byCustomer.keys()]).toEqual([]);

    // Live: a new event is emitted (and time passed since the history may be, by timers).
    await producer.send({
      topic: config.topics.profiles,
      messages: [
        {
          key: 'newcomer',
          value: JSON.stringify({
            specversion: '1.0',
            id: 'live-1',
            source: 'urn:test',
            type: 'customer.registered',
            time: new Date(now).toISOString(),
            subject: 'newcomer',
            data: { signupChannel: 'web', marketingConsent: null },
          }),
        },
      ],
    });
    await producer.disconnect();
    const registry = new SchemaRegistry({ host: env['SCHEMA_REGISTRY_URL'] as string });
    const changes = await waitFor('the live change', async () => {
      const all = await Promise.all(
        (await readTopic(kafka, config.topics.segmentChanges)).map(async (m) => SegmentChangeEvent.parse(await registry.decode(m.message.value as Buffer))),
      );
      return all.some((c) => c.subject === 'newcomer') ? all : undefined;
    });
    const fromEvents = changes.filter((c) => c.data.cause.kind === 'event');
    expect(fromEvents.map((c) => `${c.subject}:${c.data.dimension}:${c.data.to}`)).toEqual(['newcomer:stage:prospect']);
  });
});
