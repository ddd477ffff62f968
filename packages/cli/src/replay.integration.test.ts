/** `crm replay --until-live` spawns the segmenter in backfill mode and returns once it has caught up. */
import { createTopics, isolatedEnv } from '@crm/segmenter/testing';
import { generateEvents, readTopic, testKafka, testRedis } from '@crm/testkit';
import { partitionKeys } from '@crm/store';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo } from './testing/io.ts';
import { run } from './run.ts';

describe('crm replay', () => {
  const redis = testRedis();
  afterAll(() => redis.quit());

  it('prints the command it would run', async () => {
    const { env } = isolatedEnv();
    const io = captureIo(env);
    expect(await run(['replay', '--print', '--group', 'g2', '--key-prefix', 'p2'], io)).toBe(0);
    expect(io.out()).toMatch(/CRM_KEY_PREFIX=p2 .*CRM_GROUP_ID=g2 CRM_MODE=backfill .*node \S+services\/segmenter\/src\/main\.ts\n$/);
  });

  it('rebuilds state quietly from history and stops once live', async () => {
    const { env, config } = isolatedEnv({ CRM_PARTITIONS: '2' });
    const kafka = testKafka();
    await createTopics(kafka, config, 2);
    const now = Date.now();
    const history = generateEvents({ seed: 5, customers: 10, events: 200, start: now - 300 * 86_400_000, end: now - 86_400_000, prefix: 'r' });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const e of history) {
      const topic = e.type.startsWith('commerce.') ? config.topics.orders : e.type.startsWith('service.') ? config.topics.interactions : config.topics.profiles;
      await producer.send({ topic, messages: [{ key: e.subject, value: JSON.stringify(e) }] });
    }
    await producer.disconnect();

    const io = captureIo(env);
    expect(await run(['replay', '--until-live'], io)).toBe(0);
    expect(io.err()).toMatch(/replay: caught up, segmenter stopped/);
    expect(io.out()).toMatch(/"msg":"backfill complete: live"/);
    const stored = (await Promise.all([0, 1].map((p) => redis.hlen(partitionKeys(config.keyPrefix, p).state)))).reduce((a, b) => a + b, 0);
    expect(stored).toBe(new Set(history.map((e) => e.subject)).size);
    // Quiet: history caused no change event.
    expect((await readTopic(kafka, config.topics.segmentChanges)).filter((m) => m.message.value?.includes('"kind":"event"'))).toEqual([]);
  });
});
