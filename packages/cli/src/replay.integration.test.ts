/**
 * `crm replay --until-live` spawns the segmenter in backfill mode and returns once it has caught
 * up; `crm replay --as-of` returns once every customer is evaluated at one instant.
 */
import { createTopics, expectMembershipsAsOf, historyEndingApart, isolatedEnv, latestEventTime, produceEvents } from '@crm/segmenter/testing';
import { DAY_MS, generateEvents, readTopic, testKafka, testRedis } from '@crm/testkit';
import { partitionKeys, readStreamClock } from '@crm/store';
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

  it('--as-of end: every customer of every partition as of the latest event of all, exit 0 once no timer is due', async () => {
    const { env, config } = isolatedEnv({ CRM_PARTITIONS: '2' });
    const kafka = testKafka();
    await createTopics(kafka, config, 2);
    // Partition 0's history ends ten months before partition 1's.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const history = historyEndingApart([now - 400 * DAY_MS, now - 100 * DAY_MS], 21);
    await produceEvents(kafka, config, history);
    const T = latestEventTime(history);

    const io = captureIo(env);
    expect(await run(['replay', '--as-of', 'end', '--group', config.groupId, '--key-prefix', config.keyPrefix], io), io.err()).toBe(0);
    expect(io.err()).toContain(`replay: every customer evaluated as of ${new Date(T).toISOString()}, segmenter stopped`);
    expect(io.out()).not.toMatch(/"msg":"backfill complete: live"/);
    expect(await readStreamClock(redis, config.keyPrefix)).toBe(T);
    for (const p of [0, 1]) expect(await redis.zcount(partitionKeys(config.keyPrefix, p).timers, '-inf', T)).toBe(0);
    expect(await expectMembershipsAsOf(redis, config, 2, history, T)).toBe(new Set(history.map((e) => e.subject)).size);
    expect(await readTopic(kafka, config.topics.segmentChanges)).toEqual([]);
  });

  it('refuses a bad --as-of, and --as-of with --until-live, as usage errors', async () => {
    const { env } = isolatedEnv();
    const bad = captureIo(env);
    expect(await run(['replay', '--as-of', 'yesterday'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--as-of must be end or an ISO-8601 UTC instant/);
    const both = captureIo(env);
    expect(await run(['replay', '--as-of', 'end', '--until-live'], both)).toBe(2);
    expect(both.err()).toMatch(/give --as-of or --until-live, not both/);
    const printed = captureIo(env);
    expect(await run(['replay', '--print', '--as-of', '2011-12-09T12:50:00Z'], printed)).toBe(0);
    expect(printed.out()).toMatch(/CRM_MODE=backfill CRM_AS_OF=2011-12-09T12:50:00Z /);
  });
});
