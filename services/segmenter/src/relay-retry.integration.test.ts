/**
 * The relay runs off the partition lock, and a unit's offsets reach Kafka only once its changes
 * did. Here the real broker refuses every produce to the changes topic for a while (the topic's
 * max.message.bytes below one change) while events arrive; then:
 * - while it refuses: no change leaves, the outboxes keep them, and no offset is committed for a
 *   unit whose changes wait (every partition keeps an input topic whose committed offset is
 *   below its fence);
 * - once it accepts again, without a restart: the failed relays are retried from the outboxes,
 *   every record is applied, every outbox empties, the changes form unbroken chains, and after
 *   a stop the committed offsets equal the fences.
 */
import { outboxLength, partitionKeys } from '@crm/store';
import { DAY_MS, generateEvents, waitFor } from '@crm/testkit';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTopics,
  expectStatesEqualRecomputation,
  expectUnbrokenChains,
  fixture,
  produceEvents,
  readChanges,
  waitUntilAllApplied,
} from './testing/harness.ts';

const PARTITIONS = 2;

async function setMaxMessageBytes(admin: Admin, topic: string, value: string): Promise<void> {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value }] }],
  });
}

describe('a broker that refuses the changes for a while', () => {
  const f = fixture({ CRM_PARTITIONS: String(PARTITIONS) });
  const { config, kafka, redis } = f;
  const admin = kafka.admin();
  afterAll(async () => {
    await admin.disconnect();
    await f.close();
  });

  it('keeps the changes and the offsets back, then relays them again in order without a restart', async () => {
    await createTopics(kafka, config, PARTITIONS);
    await admin.connect();
    const changes = config.topics.segmentChanges;
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: changes, configNames: ['max.message.bytes'] }],
    });
    const original = described.resources[0]?.configEntries[0]?.configValue;
    expect(original).toMatch(/^\d+$/);
    // A change record is a few hundred bytes: every produce to the topic is refused.
    await setMaxMessageBytes(admin, changes, '64');

    const now = Date.now();
    const events = generateEvents({ seed: 23, customers: 200, events: 2_000, start: now - 20 * DAY_MS, end: now - 60_000, prefix: 'rr' });
    const segmenter = await f.start();
    await produceEvents(kafka, config, events);
    const inputs = [config.topics.orders, config.topics.interactions, config.topics.profiles];
    const relayedChanges = async () => (await segmenter.metrics.relayed.get()).values.reduce((n, v) => n + v.value, 0);
    const relayFailures = async (p: number) => (await segmenter.metrics.relayFailures.get()).values.find((v) => v.labels.partition === String(p))?.value ?? 0;

    // Every partition committed changes it cannot relay.
    await waitFor('changes waiting in every outbox', async () => {
      for (let p = 0; p < PARTITIONS; p++) if ((await outboxLength(redis, partitionKeys(config.keyPrefix, p))) === 0) return false;
      return true;
    });
    expect(await relayedChanges()).toBe(0);
    expect(await readChanges(f)).toEqual([]);
    // A failed relay is retried with a back-off doubling from 100 ms: eight failures of each
    // partition's relays span seconds, several rounds of the offset committer (every second).
    // None of them may have committed an offset that covers a unit whose changes wait.
    await waitFor('relays retried', async () => (await relayFailures(0)) >= 8 && (await relayFailures(1)) >= 8, { timeoutMs: 60_000 });
    const fenceOf = async (p: number) => redis.hgetall(partitionKeys(config.keyPrefix, p).fence);
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: inputs });
    for (let p = 0; p < PARTITIONS; p++) {
      const fence = await fenceOf(p);
      const behind = inputs.filter((t) => {
        const offset = committed.find((c) => c.topic === t)?.partitions.find((x) => x.partition === p)?.offset ?? '-1';
        return fence[t] !== undefined && BigInt(offset) < BigInt(fence[t] as string);
      });
      expect(behind, `partition ${p}: an input topic whose committed offset is below the fence ${JSON.stringify(fence)}`).not.toEqual([]);
    }

    // The broker accepts again: the same segmenter relays what waited, and goes on.
    await setMaxMessageBytes(admin, changes, original as string);
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);
    await waitFor('every outbox relayed', async () => {
      for (let p = 0; p < PARTITIONS; p++) if ((await outboxLength(redis, partitionKeys(config.keyPrefix, p))) > 0) return false;
      return true;
    });
    await f.stop();

    const compared = await expectStatesEqualRecomputation(redis, config, PARTITIONS, events, Date.now(), (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(new Set(events.map((e) => e.subject)).size);
    const { unique } = await expectUnbrokenChains(redis, config, PARTITIONS, await readChanges(f));
    expect(unique).toBeGreaterThan(compared);

    // After the stop, the committed offsets are the fences.
    const after = await admin.fetchOffsets({ groupId: config.groupId, topics: inputs });
    for (const { topic, partitions } of after) {
      for (const { partition, offset } of partitions) {
        const fence = await redis.hget(partitionKeys(config.keyPrefix, partition).fence, topic);
        expect(offset, `${topic}/${partition}`).toBe(fence ?? '-1');
      }
    }
  }, 240_000);
});
