/**
 * The worker refuses a part that starts beyond its topic's fence: the records in between were
 * never applied (a batch kafkajs fetched before a group rejoin and that was not applied, or one
 * that failed), and applying the later part would skip them for good. Real Redis and Kafka.
 */
import { TOPICS } from '@crm/contracts';
import { partitionKeys } from '@crm/store';
import { DAY_MS, generateEvents, silentLogger, testKafka, testRedis } from '@crm/testkit';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { DeploymentClock } from './deployment-clock.ts';
import { GroupSender } from './group-sender.ts';
import { createMetrics } from './metrics.ts';
import { FetchGapError, PartitionWorker } from './partition-worker.ts';
import { createTopics, expectStatesEqualRecomputation, isolatedEnv } from './testing/harness.ts';

describe('a part that starts beyond the fence', () => {
  const { config } = isolatedEnv({ CRM_PARTITIONS: '1' });
  const redis = testRedis();
  const kafka = testKafka();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  afterAll(async () => {
    await producer.disconnect();
    await redis.quit();
  });

  it('is refused with nothing written, and applies once fetched from the fence', async () => {
    await createTopics(kafka, config, 1);
    await producer.connect();
    const topic = config.topics.orders;
    const keys = partitionKeys(config.keyPrefix, 0);
    const worker = new PartitionWorker(0, keys, {
      config,
      redis,
      producer,
      registry: undefined,
      metrics: createMetrics(),
      log: silentLogger,
      domain: () => config.domain,
      canonical: () => TOPICS.orders,
      changesSender: new GroupSender(producer, config.topics.segmentChanges),
      clock: new DeploymentClock(redis, config.keyPrefix),
    });
    const now = Date.now();
    const events = generateEvents({ seed: 5, customers: 10, events: 300, start: now - 30 * DAY_MS, end: now - 60_000, prefix: 'g' })
      .filter((e) => e.type.startsWith('commerce.'))
      .slice(0, 40);
    const messages = events.map(
      (e, offset) =>
        ({
          key: Buffer.from(e.subject),
          value: Buffer.from(JSON.stringify(e)),
          offset: String(offset),
          timestamp: String(now),
          headers: {},
          attributes: 0,
        }) as KafkaMessage,
    );

    await worker.processBatch([{ topic, start: '0', messages: messages.slice(0, 10) }]);
    expect(await redis.hget(keys.fence, topic)).toBe('10');
    const before = await redis.hgetall(keys.state);

    // Records 10..19 never reached the worker: the part from 20 is refused, nothing moves.
    await expect(worker.processBatch([{ topic, start: '20', messages: messages.slice(20) }])).rejects.toBeInstanceOf(FetchGapError);
    expect(await redis.hget(keys.fence, topic)).toBe('10');
    expect(await redis.hgetall(keys.state)).toEqual(before);

    // Fetched again from the fence, everything applies exactly once.
    await worker.processBatch([{ topic, start: '10', messages: messages.slice(10) }]);
    expect(await redis.hget(keys.fence, topic)).toBe(String(messages.length));
    const compared = await expectStatesEqualRecomputation(redis, config, 1, events, now, (actual, expected, id) => expect(actual, id).toBe(expected));
    expect(compared).toBe(new Set(events.map((e) => e.subject)).size);
  });
});
