/**
 * Batches are fetched ahead of processing (src/intake.ts). When a batch fails, the batches
 * fetched after it must not apply: that would skip the failed batch's records for good. Here
 * Redis refuses the segmenter's commits for a while (an ACL that denies EVAL/EVALSHA to the
 * segmenter's user, real Redis) while events keep arriving; afterwards:
 * - later batches were dropped (the metric) and fetched again;
 * - every customer's state equals a from-scratch recomputation over the whole log;
 * - every change is in the topic, in unbroken chains;
 * - the offsets committed to Kafka are exactly the fences Redis holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionKeys } from '@crm/store';
import { DAY_MS, generateEvents, testEndpoints, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import type { Segmenter } from './service.ts';
import { createTopics, expectStatesEqualRecomputation, expectUnbrokenChains, fixture, readChanges, topicOf, waitUntilAllApplied } from './testing/harness.ts';

const PARTITIONS = 2;
const CUSTOMERS = 400;
const EVENTS = 12_000;

const user = uniqueName('intake');
const password = 'intake-test';
const url = new URL(testEndpoints().redisUrl);
url.username = user;
url.password = password;

async function dropped(s: Segmenter, reason: string): Promise<number> {
  const { values } = await s.metrics.batchesDropped.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('a failed batch', () => {
  const f = fixture({ CRM_PARTITIONS: String(PARTITIONS), CRM_KEY_PREFIX: user, REDIS_URL: url.toString() });
  const { config, kafka, redis } = f;
  afterAll(async () => {
    await f.stop();
    await redis.call('ACL', 'DELUSER', user);
    await f.close();
  });

  it('lets no later batch of its topic-partition apply, and everything applies once it passes', async () => {
    // The segmenter's own Redis user: all commands, only its keys.
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, `~${user}:*`, '+@all');
    await createTopics(kafka, config, PARTITIONS);
    const now = Date.now();
    const events = generateEvents({ seed: 11, customers: CUSTOMERS, events: EVENTS, start: now - 20 * DAY_MS, end: now - 60_000, prefix: 'i' });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let sent = 0;
    const send = async (n: number) => {
      const byTopic = new Map<string, Array<{ key: string; value: string }>>();
      for (const e of events.slice(sent, sent + n)) {
        const t = topicOf(config, e);
        byTopic.set(t, [...(byTopic.get(t) ?? []), { key: e.subject, value: JSON.stringify(e) }]);
      }
      sent += n;
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    };

    const segmenter = await f.start();
    await send(EVENTS / 4);
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);

    // Commits refused: the script never starts, so nothing of a refused batch is written.
    await redis.call('ACL', 'SETUSER', user, '-eval', '-evalsha');
    // Events keep arriving until batches fetched behind a failed one were dropped.
    while ((await dropped(segmenter, 'after_failure')) === 0) {
      expect(sent, 'no batch was dropped before the events ran out').toBeLessThan((EVENTS * 3) / 4);
      await send(100);
      await sleep(50); // pacing: a fetch per send, so that batches queue behind the failing one
    }
    await redis.call('ACL', 'SETUSER', user, '+eval', '+evalsha');
    await send(EVENTS - sent);
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);
    await producer.disconnect();
    // A graceful stop finishes the queued batches, relays the outboxes and commits the offsets.
    await f.stop();
    expect(await dropped(segmenter, 'after_failure')).toBeGreaterThan(0);

    const compared = await expectStatesEqualRecomputation(redis, config, PARTITIONS, events, Date.now(), (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(new Set(events.map((e) => e.subject)).size);

    const { unique } = await expectUnbrokenChains(redis, config, PARTITIONS, await readChanges(f));
    expect(unique).toBeGreaterThan(compared);

    // Offsets reach Kafka only once Redis holds what they cover; after a stop they equal the fences.
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.orders, config.topics.interactions, config.topics.profiles] });
    await admin.disconnect();
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        const fence = await redis.hget(partitionKeys(config.keyPrefix, partition).fence, topic);
        expect(offset, `${topic}/${partition}`).toBe(fence ?? '-1');
      }
    }
  }, 240_000);
});
