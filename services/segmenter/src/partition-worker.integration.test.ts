/**
 * The worker refuses a part that starts beyond its topic's fence: the records in between were
 * never applied (a batch kafkajs fetched before a group rejoin and that was not applied, or one
 * that failed), and applying the later part would skip them for good. The relay runs off the
 * partition lock: the next unit commits while the previous relay waits for the broker, and the
 * changes still reach Kafka in commit order, a failed relay included. Real Redis and Kafka.
 */
import { TOPICS } from '@crm/contracts';
import { decodeState } from '@crm/domain';
import { type OutboxEntry, type PartitionKeys, outboxLength, parseCustomerRecord, partitionKeys, readOutbox, registerScripts, unpackHistory } from '@crm/store';
import { DAY_MS, generateEvents, readTopic, silentLogger, startOwnRedis, testKafka, testRedis, waitFor } from '@crm/testkit';
import type { Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { SegmenterConfig } from './config.ts';
import { DeploymentClock } from './deployment-clock.ts';
import { GroupSender } from './group-sender.ts';
import { createMetrics } from './metrics.ts';
import { FetchGapError, PartitionWorker } from './partition-worker.ts';
import { createTopics, expectStatesEqualRecomputation, isolatedEnv } from './testing/harness.ts';

/** Consumed records of customers' orders, offsets 0.., as the intake hands them over. */
function orderMessages(seed: number, now: number): { events: ReturnType<typeof generateEvents>; messages: KafkaMessage[] } {
  const events = generateEvents({ seed, customers: 10, events: 300, start: now - 30 * DAY_MS, end: now - 60_000, prefix: `g${seed}` })
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
  return { events, messages };
}

/** An isolated environment of one partition, a Redis client and an idempotent producer (call it in a describe: closed after all). */
function oneTopicPartition(): { config: SegmenterConfig; redis: Redis; kafka: Kafka; producer: Producer } {
  const { config } = isolatedEnv({ CRM_PARTITIONS: '1' });
  const redis = testRedis();
  const kafka = testKafka();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  afterAll(async () => {
    await producer.disconnect();
    await redis.quit();
  });
  return { config, redis, kafka, producer };
}

/** A worker of partition 0 that consumes the orders topic (no registry: JSON), relaying through `sender`. */
function orderWorker(deps: { config: SegmenterConfig; redis: Redis; producer: Producer; keys: PartitionKeys; sender: GroupSender }): PartitionWorker {
  const { config, redis, producer, keys, sender } = deps;
  return new PartitionWorker(0, keys, {
    config,
    redis,
    producer,
    registry: undefined,
    metrics: createMetrics(),
    log: silentLogger,
    domain: () => config.domain,
    canonical: () => TOPICS.orders,
    changesSender: sender,
    clock: new DeploymentClock(redis, config.keyPrefix),
  });
}

/** The real group sender behind a gate the test opens; it can refuse the next send (a broker that failed). */
class GatedSender extends GroupSender {
  private opened!: () => void;
  private gate = new Promise<void>((resolve) => {
    this.opened = resolve;
  });
  failNext = false;
  sends = 0;
  constructor(producer: Producer, topic: string) {
    super(producer, topic);
  }
  open(): void {
    this.opened();
  }
  /** Holds the sends from now on, until `open`. */
  close(): void {
    this.gate = new Promise<void>((resolve) => {
      this.opened = resolve;
    });
  }
  override async send(messages: Message[]): Promise<void> {
    await this.gate;
    this.sends++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('produce refused (test)');
    }
    return super.send(messages);
  }
}

/** The values of outbox entries' records, oldest first (base64, to compare with what was produced). */
const valuesOf = (entries: readonly OutboxEntry[]) => entries.flatMap((e) => e.records.map((r) => r.value.toString('base64')));

/** The values produced to the changes topic, from its `from`-th record on (base64). */
async function producedValues(kafka: Kafka, config: SegmenterConfig, from = 0): Promise<string[]> {
  return (await readTopic(kafka, config.topics.segmentChanges)).slice(from).map((m) => (m.message.value as Buffer).toString('base64'));
}

/**
 * A clean worker whose first commit was relayed from memory; its second commit's relay then
 * waits for the broker (the sender held), and another member appends an entry (a rebalance).
 */
async function foreignEntryBehindAHeldRelay(env: {
  config: SegmenterConfig;
  kafka: Kafka;
  producer: Producer;
  redis: Redis;
  keys: PartitionKeys;
  seed: number;
}) {
  const { config, kafka, producer, redis, keys, seed } = env;
  await createTopics(kafka, config, 1);
  await producer.connect();
  const topic = config.topics.orders;
  const sender = new GatedSender(producer, config.topics.segmentChanges);
  sender.open();
  const worker = orderWorker({ config, redis, producer, keys, sender });
  const { messages } = orderMessages(seed, Date.now());
  const before = (await readTopic(kafka, config.topics.segmentChanges)).length;
  await worker.relay();
  await worker.processBatch([{ topic, start: '0', messages: messages.slice(0, 10) }]);
  sender.close();
  const second = await worker.applyBatch([{ topic, start: '10', messages: messages.slice(10, 20) }]);
  const foreign = Buffer.from('{"foreign":true}');
  await redis.xadd(keys.outbox, '*', 'k', 'someone', 'v', foreign);
  return { topic, sender, worker, messages, before, second, foreign };
}

/** Partition 0's topics created and a worker of its orders topic, relaying through a plain GroupSender. */
async function plainOrderWorker(env: ReturnType<typeof oneTopicPartition>): Promise<{ topic: string; keys: PartitionKeys; worker: PartitionWorker }> {
  const { config, kafka, producer, redis } = env;
  await createTopics(kafka, config, 1);
  await producer.connect();
  const keys = partitionKeys(config.keyPrefix, 0);
  const worker = orderWorker({ config, redis, producer, keys, sender: new GroupSender(producer, config.topics.segmentChanges) });
  return { topic: config.topics.orders, keys, worker };
}

describe('a part that starts beyond the fence', () => {
  const env = oneTopicPartition();
  const { config, redis } = env;

  it('is refused with nothing written, and applies once fetched from the fence', async () => {
    const { topic, keys, worker } = await plainOrderWorker(env);
    const now = Date.now();
    const { events, messages } = orderMessages(5, now);

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

describe('stored records', () => {
  const env = oneTopicPartition();
  const { config, redis } = env;

  it('leave out what the deployment already says, the customer id and the topic suffix, and read back whole', async () => {
    const { topic, keys, worker } = await plainOrderWorker(env);
    const { events, messages } = orderMessages(7, Date.now());
    await worker.processBatch([{ topic, start: '0', messages }]);
    const records = Object.entries(await redis.hgetall(keys.state));
    expect(records.length).toBe(new Set(events.map((e) => e.subject)).size);
    expect(config.topicSuffix).not.toBe('');
    for (const [id, raw] of records) {
      expect(raw, id).not.toContain(config.topicSuffix);
      const { state, history } = parseCustomerRecord(raw);
      expect(state?.endsWith('|'), id).toBe(true);
      expect(decodeState(state as string, id).customerId).toBe(id);
      const causes = unpackHistory(id, history, config.topicSuffix).map((c) => c.cause);
      expect(causes.length, id).toBeGreaterThan(0);
      for (const cause of causes) expect(cause.topic).toBe(topic);
    }
  });
});

describe('the relay chain', () => {
  const { config, redis, kafka, producer } = oneTopicPartition();

  it('commits the next unit while a relay is in flight, and produces in commit order through a failed relay', async () => {
    await createTopics(kafka, config, 1);
    await producer.connect();
    const topic = config.topics.orders;
    const keys = partitionKeys(config.keyPrefix, 0);
    const sender = new GatedSender(producer, config.topics.segmentChanges);
    const worker = orderWorker({ config, redis, producer, keys, sender });
    const { messages } = orderMessages(7, Date.now());
    const settled: string[] = [];

    // The broker does not answer yet: the first unit's relay waits, the second unit commits anyway.
    const first = await worker.applyBatch([{ topic, start: '0', messages: messages.slice(0, 10) }]);
    first.relayed.then(
      () => settled.push('first relayed'),
      () => settled.push('first failed'),
    );
    const second = await worker.applyBatch([{ topic, start: '10', messages: messages.slice(10, 20) }]);
    second.relayed.then(() => settled.push('second relayed'));
    expect(await redis.hget(keys.fence, topic)).toBe('20');
    const pending = await readOutbox(redis, keys, 10);
    expect(pending).toHaveLength(2);
    expect(settled).toEqual([]);
    expect(worker.relayedFenceOf(topic)).toBeNull();

    // The first relay fails: its entry stays, and the second relay produces it first, from the outbox.
    sender.failNext = true;
    sender.open();
    await expect(first.relayed).rejects.toThrow('produce refused (test)');
    await second.relayed;
    expect(settled).toEqual(['first failed', 'second relayed']);
    expect(worker.relayedFenceOf(topic)).toBe('20');
    expect(await outboxLength(redis, keys)).toBe(0);

    // Clean again: the next unit is produced from memory, after the others.
    await worker.processBatch([{ topic, start: '20', messages: messages.slice(20) }]);
    const expected = valuesOf(pending);
    expect(expected.length).toBeGreaterThan(0);
    const produced = await producedValues(kafka, config);
    expect(produced.slice(0, expected.length)).toEqual(expected);
    expect(new Set(produced).size).toBe(produced.length);
    expect(await outboxLength(redis, keys)).toBe(0);
    expect(worker.relayedFenceOf(topic)).toBe(String(messages.length));
  });

  it("produces another member's entry, appended while a relay was in flight, before the next commit's", async () => {
    const keys = partitionKeys(`${config.keyPrefix}foreign:`, 0);
    const { topic, sender, worker, messages, before, second, foreign } = await foreignEntryBehindAHeldRelay({ config, kafka, producer, redis, keys, seed: 9 });
    // Then the next commit.
    const third = await worker.applyBatch([{ topic, start: '20', messages: messages.slice(20) }]);
    const pending = await readOutbox(redis, keys, 10);
    expect(pending).toHaveLength(3);
    sender.open();
    await second.relayed;
    await third.relayed;
    expect(await outboxLength(redis, keys)).toBe(0);
    const expected = valuesOf(pending);
    const produced = await producedValues(kafka, config, before);
    expect(produced.slice(-expected.length)).toEqual(expected);
    expect(produced.filter((v) => v === foreign.toString('base64'))).toHaveLength(1);
  });

  it('relay what a failed relay left in the outbox, once, in order; and a failed relay is relayed again off the lock', async () => {
    await createTopics(kafka, config, 1);
    await producer.connect();
    const topic = config.topics.orders;
    const keys = partitionKeys(`${config.keyPrefix}nothing:`, 0);
    const sender = new GatedSender(producer, config.topics.segmentChanges);
    sender.open();
    const worker = orderWorker({ config, redis, producer, keys, sender });
    const { messages } = orderMessages(13, Date.now());
    const garbage = (offset: number) =>
      ({ key: Buffer.from('x'), value: Buffer.from('not an event'), offset: String(offset), timestamp: '0', headers: {}, attributes: 0 }) as KafkaMessage;
    const outbox = async () => valuesOf(await readOutbox(redis, keys, 10));
    const before = (await readTopic(kafka, config.topics.segmentChanges)).length;
    const produced = () => producedValues(kafka, config, before);

    // The first unit's relay fails: its changes stay in the outbox.
    sender.failNext = true;
    const first = await worker.applyBatch([{ topic, start: '0', messages: messages.slice(0, 10) }]);
    await expect(first.relayed).rejects.toThrow('produce refused (test)');
    const left = await outbox();
    expect(left.length).toBeGreaterThan(0);

    // A unit of dead letters only commits no change: its relay relays the outbox from Redis.
    await worker.processBatch([{ topic, start: '10', messages: [10, 11, 12].map(garbage) }]);
    expect(await redis.hget(keys.fence, topic)).toBe('13');
    expect(await outboxLength(redis, keys)).toBe(0);
    expect(worker.relayedFenceOf(topic)).toBe('13');
    expect(await produced()).toEqual(left);

    // Records already applied (fetched again after a rebalance) commit nothing; the outbox is relayed all the same.
    const reapplied = messages.slice(13, 25);
    sender.failNext = true;
    const third = await worker.applyBatch([{ topic, start: '13', messages: reapplied }]);
    await expect(third.relayed).rejects.toThrow('produce refused (test)');
    const leftAgain = await outbox();
    expect(leftAgain.length).toBeGreaterThan(0);
    await worker.processBatch([{ topic, start: '13', messages: reapplied }]);
    expect(await outboxLength(redis, keys)).toBe(0);
    expect(await produced()).toEqual([...left, ...leftAgain]);

    // A failed relay retried off the lock: the next unit commits meanwhile, the changes leave in commit order.
    sender.failNext = true;
    const fourth = await worker.applyBatch([{ topic, start: '25', messages: messages.slice(25, 32) }]);
    await expect(fourth.relayed).rejects.toThrow('produce refused (test)');
    const fourthLeft = await outbox();
    sender.close();
    const retry = worker.relayAgain();
    const fifth = await worker.applyBatch([{ topic, start: '32', messages: messages.slice(32) }]);
    expect(await redis.hget(keys.fence, topic)).toBe(String(messages.length));
    const fifthLeft = (await outbox()).slice(fourthLeft.length);
    sender.open();
    await retry;
    await fifth.relayed;
    expect(await outboxLength(redis, keys)).toBe(0);
    const all = await produced();
    expect(all).toEqual([...left, ...leftAgain, ...fourthLeft, ...fifthLeft]);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('a trim while a commit is in flight', () => {
  const { config, kafka, producer } = oneTopicPartition();

  // Both ways ioredis sends: each command on its own, and auto-pipelined (the segmenter's client),
  // where the commit goes in a pipeline and its resend after NOSCRIPT outside it.
  it.each([
    { enableAutoPipelining: false, seed: 17 },
    { enableAutoPipelining: true, seed: 19 },
  ])(
    "does not let another member's entry pass for this worker's when Redis answers the commit NOSCRIPT (auto-pipelining $enableAutoPipelining)",
    async ({ enableAutoPipelining, seed }) => {
      // A Redis of its own: its script cache is flushed and its writes paused.
      const own = await startOwnRedis();
      const redis = new Redis({ host: '127.0.0.1', port: own.port, connectionName: 'worker', enableAutoPipelining });
      registerScripts(redis);
      const admin = new Redis({ host: '127.0.0.1', port: own.port });
      try {
        const keys = partitionKeys(config.keyPrefix, 0);
        const { topic, sender, worker, messages, before, second, foreign } = await foreignEntryBehindAHeldRelay({
          config,
          kafka,
          producer,
          redis,
          keys,
          seed,
        });

        // Redis loses its scripts and holds writes: the third commit's EVALSHA waits in Redis...
        await admin.script('FLUSH');
        await redis.ping();
        await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
        const third = worker.applyBatch([{ topic, start: '20', messages: messages.slice(20) }]);
        await waitFor('the third commit held by the pause', async () => /name=worker .*cmd=evalsha/.test(String(await admin.call('CLIENT', 'LIST'))));
        // ... while the second relay is acked: a trim sent now would run before the commit ioredis resends after NOSCRIPT.
        sender.open();
        await second.relayed;
        await admin.call('CLIENT', 'UNPAUSE');
        await (await third).relayed;

        expect(await outboxLength(admin, keys)).toBe(0);
        const produced = (await readTopic(kafka, config.topics.segmentChanges)).slice(before).map((m) => m.message.value as Buffer);
        const at = produced.findIndex((v) => v.equals(foreign));
        expect(at, "the other member's entry was relayed").toBeGreaterThan(-1);
        expect(produced.filter((v) => v.equals(foreign))).toHaveLength(1);
        expect(worker.relayedFenceOf(topic)).toBe(String(messages.length));
      } finally {
        await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
        redis.disconnect();
        admin.disconnect();
        await own.stop();
      }
    },
  );
});
