/**
 * CRM_REDIS_WAIT_REPLICAS: changes leave for Kafka only once a replica acknowledged the commit
 * that holds them (Redis WAIT), so a failover cannot roll back a change campaigns received.
 * A primary and a replica of the test's own: while the replica is down, commits land on the
 * primary but nothing is relayed (the outbox keeps it, the relay is retried and the partition
 * takes no more than one unit beyond it) and /readyz says the partitions make no progress; once
 * the replica is back, everything is applied and relayed and the chains are unbroken.
 */
import { AofRedis, DAY_MS, generateEvents, logSink, testKafka, testRegistry, waitFor } from '@crm/testkit';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Segmenter } from './service.ts';
import { createTopics, expectUnbrokenChains, isolatedEnv, produceEvents, readChanges, waitUntilAllApplied } from './testing/harness.ts';

const PARTITIONS = 2;

describe('CRM_REDIS_WAIT_REPLICAS=1', () => {
  const servers: AofRedis[] = [];
  let primaryClient: Redis | undefined;
  let segmenter: Segmenter | undefined;
  afterAll(async () => {
    await segmenter?.stop();
    await primaryClient?.quit();
    for (const s of servers) await s.close();
  });

  it('relays a change only once a replica holds it', async () => {
    const primary = await AofRedis.start();
    const replica = await AofRedis.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    servers.push(primary, replica);
    const client = primary.client();
    primaryClient = client;
    const replicas = async () => Number(/connected_slaves:(\d+)/.exec(await client.info('replication'))?.[1] ?? 0);
    await waitFor('the replica attached', async () => (await replicas()) === 1);

    const { config } = isolatedEnv({
      REDIS_URL: primary.url,
      CRM_PARTITIONS: String(PARTITIONS),
      CRM_REDIS_WAIT_REPLICAS: '1',
      CRM_REDIS_WAIT_TIMEOUT_MS: '200',
      CRM_STALL_TIMEOUT_MS: '1000',
    });
    const kafka = testKafka();
    const registry = testRegistry();
    await createTopics(kafka, config, PARTITIONS);
    const now = Date.now();
    const events = generateEvents({ seed: 21, customers: 60, events: 400, start: now - 10 * DAY_MS, end: now - 60_000, prefix: 'w' });
    const send = (part: typeof events) => produceEvents(kafka, config, part);
    const outboxes = async () => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++) n += await client.xlen(`${config.keyPrefix}:{${p}}:outbox`);
      return n;
    };
    const changesEnd = async () => {
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(config.topics.segmentChanges);
      await admin.disconnect();
      return offsets.reduce((n, o) => n + Number(o.high), 0);
    };

    segmenter = new Segmenter(config, logSink('warn').logger);
    await segmenter.start();
    await send(events.slice(0, 200));
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    await waitFor('the outboxes relayed', async () => (await outboxes()) === 0);
    const relayedBefore = await changesEnd();
    expect(relayedBefore).toBeGreaterThan(0);

    // The replica goes away: the next commits land on the primary and stay in its outbox, nothing
    // leaves for Kafka, and the partitions stop taking more (their relays are retried) until it is back.
    await replica.kill();
    await waitFor('the replica detached', async () => (await replicas()) === 0);
    await send(events.slice(200));
    await waitFor('changes waiting in the outbox', async () => (await outboxes()) > 0);
    const s = segmenter;
    await waitFor('not ready: no progress', () => !s.readiness().ready);
    expect(String(s.readiness().detail['reasons'])).toMatch(/partitions without a successful commit/);
    expect(await changesEnd()).toBe(relayedBefore);

    // Back: the waiting changes are relayed and the rest is applied.
    expect((await replica.restart()).exitCode).toBeNull();
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    await waitFor('the outboxes relayed after the replica came back', async () => (await outboxes()) === 0, { timeoutMs: 60_000 });
    await waitFor('ready again', () => s.readiness().ready, { timeoutMs: 30_000 });
    expect(await changesEnd()).toBeGreaterThan(relayedBefore);
    await s.stop();
    segmenter = undefined;
    await expectUnbrokenChains(client, config, PARTITIONS, await readChanges({ kafka, registry, config }));
  }, 120_000);
});
