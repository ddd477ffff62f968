/**
 * Test harness for the segmenter: an isolated configuration (own topics, group, key prefix)
 * on the real servers, in-process or as a child process that can be SIGKILLed, and the checks
 * several tests share.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type InputEvent, SegmentChangeEvent } from '@crm/contracts';
import { type CustomerState, type DomainConfig, apply, decodeState, encodeState, evaluate } from '@crm/domain';
import { keyedPartitioner, partitionFor, partitionKeys, readBatchContext } from '@crm/store';
import { DAY_MS, generateEvents, readTopic, silentLogger, testEndpoints, testKafka, testRedis, testRegistry, uniqueName, waitFor } from '@crm/testkit';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { type SegmenterConfig, loadConfig } from '../config.ts';
import { Segmenter } from '../service.ts';
import { ensureTopics } from '../topics.ts';

export interface IsolatedEnv {
  env: Record<string, string>;
  config: SegmenterConfig;
}

/** Environment of a segmenter isolated from every other test. */
export function isolatedEnv(overrides: Record<string, string> = {}): IsolatedEnv {
  const e = testEndpoints();
  const id = uniqueName('seg');
  const env: Record<string, string> = {
    KAFKA_BROKERS: e.kafkaBrokers,
    REDIS_URL: e.redisUrl,
    SCHEMA_REGISTRY_URL: e.schemaRegistryUrl,
    CRM_GROUP_ID: id,
    CRM_KEY_PREFIX: id,
    CRM_TOPIC_SUFFIX: `.${id}`,
    CRM_PARTITIONS: '3',
    CRM_HTTP_PORT: '0',
    CRM_TIMER_INTERVAL_MS: '100',
    CRM_LOG_LEVEL: 'warn',
    ...overrides,
  };
  return { env, config: loadConfig(env) };
}

/** A segmenter running in this process. */
export async function startInProcess(config: SegmenterConfig): Promise<Segmenter> {
  const s = new Segmenter(config, silentLogger);
  await s.start();
  return s;
}

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/** A segmenter in a child process (for kill -9), its output appended to `output`. */
export function startChild(env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  return child;
}

/** Everything a segmenter test touches, isolated; `close()` in afterAll. */
export interface Fixture extends IsolatedEnv {
  kafka: Kafka;
  redis: Redis;
  registry: SchemaRegistry;
  /** Starts the in-process segmenter (stopped by close). */
  start(): Promise<Segmenter>;
  /** Stops the in-process segmenter, if one runs. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export function fixture(overrides: Record<string, string> = {}): Fixture {
  const isolated = isolatedEnv(overrides);
  const redis = testRedis();
  let segmenter: Segmenter | undefined;
  return {
    ...isolated,
    kafka: testKafka(),
    redis,
    registry: testRegistry(),
    async start() {
      segmenter = await startInProcess(isolated.config);
      return segmenter;
    },
    async stop() {
      const s = segmenter;
      segmenter = undefined;
      await s?.stop();
    },
    async close() {
      await this.stop();
      await redis.quit();
    },
  };
}

/** The input topic an event belongs on. */
export function topicOf(config: SegmenterConfig, e: InputEvent): string {
  if (e.type.startsWith('commerce.')) return config.topics.orders;
  if (e.type.startsWith('service.')) return config.topics.interactions;
  return config.topics.profiles;
}

/** Creates every topic of `config` with `partitions` partitions. */
export async function createTopics(kafka: Kafka, config: SegmenterConfig, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, Object.values(config.topics), partitions);
  } finally {
    await admin.disconnect();
  }
}

/** Produces `events` to their input topics (JSON values, keyed by customer, Kafka's partitioner), topic after topic, 2,000 a request. */
export async function produceEvents(kafka: Kafka, config: SegmenterConfig, events: readonly InputEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyedPartitioner });
  await producer.connect();
  try {
    for (const topic of [config.topics.profiles, config.topics.orders, config.topics.interactions]) {
      const messages = events.filter((e) => topicOf(config, e) === topic).map((e) => ({ key: e.subject, value: JSON.stringify(e) }));
      // A request stays well under the broker's message.max.bytes (1 MiB).
      for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * A history whose partitions end at different times (two shops' exports, say): for each
 * partition p, customers of p with 500 days of activity up to `ends[p]`, in time order.
 */
export function historyEndingApart(ends: readonly number[], seed = 11): InputEvent[] {
  const events = ends.flatMap((end, p) =>
    generateEvents({ seed: seed + p, customers: 40, events: 600, start: end - 500 * DAY_MS, end, prefix: `p${p}-` }).filter(
      (e) => partitionFor(e.subject, ends.length) === p,
    ),
  );
  return events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** The latest event time (ms) of `events`. */
export function latestEventTime(events: readonly InputEvent[]): number {
  return Math.max(...events.map((e) => Date.parse(e.time)));
}

/** Each customer's from-scratch fold of their events, in the given order. */
export function foldByCustomer(events: readonly InputEvent[], domain: DomainConfig): Map<string, CustomerState> {
  const folded = new Map<string, CustomerState>();
  for (const e of events) folded.set(e.subject, apply(folded.get(e.subject) ?? null, e, domain).state);
  return folded;
}

/**
 * As of `T`, stored as it is: every stored customer's memberships (the segment index's, what
 * readers show) equal those of the from-scratch fold of its events evaluated at `T`, with
 * `domain` (quantile mode: the stored cuts). Returns the number of customers compared.
 */
export async function expectMembershipsAsOf(
  redis: Redis,
  config: SegmenterConfig,
  partitions: number,
  events: readonly InputEvent[],
  T: number,
  domain: DomainConfig = config.domain,
): Promise<number> {
  const folded = foldByCustomer(events, domain);
  let compared = 0;
  for await (const [id, stored] of storedStates(redis, config, partitions)) {
    expect(stored.memberships, id).toEqual(evaluate(folded.get(id) as CustomerState, T, domain).state.memberships);
    compared++;
  }
  return compared;
}

/** Every customer state stored in the partitions, decoded. */
async function* storedStates(redis: Redis, config: SegmenterConfig, partitions: number): AsyncGenerator<[string, CustomerState]> {
  for (let p = 0; p < partitions; p++) {
    const keys = partitionKeys(config.keyPrefix, p);
    const ids = await redis.hkeys(keys.state);
    const ctx = await readBatchContext(redis, keys, ids);
    for (const id of ids) yield [id, decodeState(ctx.customers.get(id)?.state as string, id)];
  }
}

/** Every segment change in the topic so far, decoded. */
export async function readChanges(f: Pick<Fixture, 'kafka' | 'registry' | 'config'>): Promise<SegmentChangeEvent[]> {
  const messages = await readTopic(f.kafka, f.config.topics.segmentChanges);
  return Promise.all(messages.map(async (m) => SegmentChangeEvent.parse(await f.registry.decode(m.message.value as Buffer))));
}

/**
 * Streaming equals batch: every customer stored in Redis equals, evaluated at `T`, the
 * from-scratch fold of its events evaluated at `T`. Returns the number of customers compared.
 */
export async function expectStatesEqualRecomputation(
  redis: Redis,
  config: SegmenterConfig,
  partitions: number,
  events: readonly InputEvent[],
  T: number,
  assertEqual: (actual: string, expected: string, customer: string) => void,
): Promise<number> {
  const folded = foldByCustomer(events, config.domain);
  let compared = 0;
  for await (const [id, stored] of storedStates(redis, config, partitions)) {
    const batch = folded.get(id) ?? null;
    assertEqual(encodeState(evaluate(stored, T, config.domain).state), encodeState(evaluate(batch as CustomerState, T, config.domain).state), id);
    compared++;
  }
  return compared;
}

/** Waits until every partition's fence reached the input topics' end offsets (every record applied). */
export async function waitUntilAllApplied(kafka: Kafka, redis: Redis, config: SegmenterConfig, partitions: number, timeoutMs = 240_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const inputs = [config.topics.orders, config.topics.interactions, config.topics.profiles];
  const ends = await Promise.all(inputs.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const));
  await admin.disconnect();
  await waitFor(
    'every input record applied',
    async () => {
      for (let p = 0; p < partitions; p++) {
        const fence = await redis.hgetall(partitionKeys(config.keyPrefix, p).fence);
        for (const [t, offsets] of ends) {
          const high = offsets.find((o) => o.partition === p)?.high ?? '0';
          if (high !== '0' && fence[t] !== high) return false;
        }
      }
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * No change lost, none out of order: per customer, dimension and segment, the changes in the
 * topic (duplicates removed) form an unbroken chain from "not a member" to the membership Redis
 * holds now; a duplicate carries the same id and content. Returns the counts.
 */
export async function expectUnbrokenChains(
  redis: Redis,
  config: SegmenterConfig,
  partitions: number,
  changes: readonly SegmentChangeEvent[],
): Promise<{ chains: number; unique: number; duplicates: number }> {
  const seen = new Map<string, string>();
  const chains = new Map<string, Array<string | null>>();
  let duplicates = 0;
  for (const e of changes) {
    const body = JSON.stringify(e.data);
    const prior = seen.get(e.id);
    if (prior !== undefined) {
      expect(body).toBe(prior);
      duplicates++;
      continue;
    }
    seen.set(e.id, body);
    const chainKey = `${e.subject}\u0000${e.data.dimension}\u0000${e.data.segment ?? ''}`;
    const chain = chains.get(chainKey) ?? [null];
    expect(e.data.from, `${chainKey} ${JSON.stringify(chain)}`).toBe(chain[chain.length - 1]);
    chain.push(e.data.to);
    chains.set(chainKey, chain);
  }
  const partitionOf = new Map<string, number>();
  for (let p = 0; p < partitions; p++) for (const id of await redis.hkeys(partitionKeys(config.keyPrefix, p).state)) partitionOf.set(id, p);
  for (const [chainKey, chain] of chains) {
    const [customer, dimension, segment] = chainKey.split('\u0000') as [string, string, string];
    const last = chain[chain.length - 1];
    if (last === null || last === undefined) continue;
    const keys = partitionKeys(config.keyPrefix, partitionOf.get(customer) as number);
    expect(await redis.sismember(keys.members(dimension, dimension === 'custom' ? segment : last), customer), chainKey).toBe(1);
  }
  return { chains: chains.size, unique: seen.size, duplicates };
}
