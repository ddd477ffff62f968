/**
 * The crash test: while 100,000 generated events stream in, the segmenter process is killed
 * with SIGKILL ten times at random moments and restarted. Afterwards:
 * - every customer's state in Redis equals a from-scratch recomputation over the full log;
 * - the change topic holds every change: per customer and dimension, the changes (duplicates
 *   removed) form an unbroken chain from "not a member" to the membership Redis holds now;
 * - any duplicate carries the same event id and the same content.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type InputEvent, SegmentChangeEvent } from '@crm/contracts';
import { type CustomerState, apply, decodeState, encodeState, evaluate } from '@crm/domain';
import { partitionKeys, readBatchContext } from '@crm/store';
import { DAY_MS, collectMessages, generateEvents, prng, testKafka, testRedis, waitFor } from '@crm/testkit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics } from './topics.ts';
import { isolatedEnv, startChild } from './testing/harness.ts';

const EVENTS = 100_000;
const CUSTOMERS = 3_000;
const KILLS = 10;
const PARTITIONS = 3;

describe('crash safety', () => {
  const { env, config } = isolatedEnv({ CRM_PARTITIONS: String(PARTITIONS), CRM_SESSION_TIMEOUT_MS: '6000', CRM_LOG_LEVEL: 'error' });
  const kafka = testKafka();
  const redis = testRedis();
  const output: string[] = [];
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await redis.quit();
  });

  it(`keeps state and changes exact through ${KILLS} SIGKILLs while ${EVENTS} events stream in`, async () => {
    const now = Date.now();
    // Event times span the last 25 days: inside the domain's lateness allowance (30 days behind a
    // customer's asOf, docs/segmentation.md), where streaming must equal batch exactly even
    // though wall-clock timers move asOf to now before older events arrive.
    const events = generateEvents({ seed: 42, customers: CUSTOMERS, events: EVENTS, start: now - 25 * DAY_MS, end: now - 60_000, prefix: 'k' });
    const topicOf = (e: InputEvent) =>
      e.type.startsWith('commerce.') ? config.topics.orders : e.type.startsWith('service.') ? config.topics.interactions : config.topics.profiles;

    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(
      admin,
      [config.topics.orders, config.topics.interactions, config.topics.profiles, config.topics.segmentChanges, config.topics.deadLetter],
      PARTITIONS,
    );

    // Stream the log in while the segmenter is being killed.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const CHUNK = 2_000;
    const streaming = (async () => {
      for (let i = 0; i < events.length; i += CHUNK) {
        const byTopic = new Map<string, Array<{ key: string; value: string }>>();
        for (const e of events.slice(i, i + CHUNK)) {
          const t = topicOf(e);
          byTopic.set(t, [...(byTopic.get(t) ?? []), { key: e.subject, value: JSON.stringify(e) }]);
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        await sleep(250); // paced so that kills land while events still arrive
      }
    })();

    const rnd = prng(7);
    for (let k = 0; k < KILLS; k++) {
      child = startChild(env, output);
      // A random moment: 0.5-3 s into this run (start-up, batches, timers, relays all get hit).
      await sleep(500 + rnd() * 2500);
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await streaming;
    await producer.disconnect();

    // A last run consumes everything, then stops gracefully (relays its outbox).
    child = startChild(env, output);
    const ends = await Promise.all(
      [config.topics.orders, config.topics.interactions, config.topics.profiles].map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const),
    );
    await waitFor(
      'every input record applied',
      async () => {
        for (let p = 0; p < PARTITIONS; p++) {
          const fence = await redis.hgetall(partitionKeys(config.keyPrefix, p).fence);
          for (const [t, offsets] of ends) {
            const high = offsets.find((o) => o.partition === p)?.high ?? '0';
            if (high !== '0' && fence[t] !== high) return false;
          }
        }
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 250 },
    );
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, output.join('').slice(-2000)).toBe(0);

    // 1. State equals a from-scratch recomputation over the full log.
    const T = Date.now();
    const byCustomer = new Map<string, InputEvent[]>();
    for (const e of events) byCustomer.set(e.subject, [...(byCustomer.get(e.subject) ?? []), e]);
    let compared = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const keys = partitionKeys(config.keyPrefix, p);
      const ids = (await redis.hkeys(keys.state)) as string[];
      const ctx = await readBatchContext(redis, keys, ids);
      for (const id of ids) {
        let batch: CustomerState | null = null;
        for (const e of byCustomer.get(id) ?? []) batch = apply(batch, e, config.domain).state;
        const stored = decodeState(ctx.customers.get(id)?.state as string);
        expect(encodeState(evaluate(stored, T, config.domain).state), id).toBe(encodeState(evaluate(batch as CustomerState, T, config.domain).state));
        compared++;
      }
    }
    expect(compared).toBe(byCustomer.size);

    // 2. Every change is in the topic, 3. duplicates carry the same id and content.
    const changeEnds = await admin.fetchTopicOffsets(config.topics.segmentChanges);
    const total = changeEnds.reduce((n, o) => n + Number(o.high), 0);
    await admin.disconnect();
    const registry = new SchemaRegistry({ host: env['SCHEMA_REGISTRY_URL'] as string });
    const messages = await collectMessages(kafka, config.topics.segmentChanges, (m) => m.length >= total, 120_000);
    const seen = new Map<string, string>();
    const chains = new Map<string, Array<string | null>>();
    let duplicates = 0;
    const decoded = await Promise.all(
      messages.map(async (m) => ({
        p: m.partition,
        o: Number(m.message.offset),
        e: SegmentChangeEvent.parse(await registry.decode(m.message.value as Buffer)),
      })),
    );
    decoded.sort((a, b) => a.p - b.p || a.o - b.o);
    for (const { e } of decoded) {
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
    expect(chains.size).toBeGreaterThan(CUSTOMERS);
    for (const [chainKey, chain] of chains) {
      const [customer, dimension, segment] = chainKey.split('\u0000') as [string, string, string];
      const last = chain[chain.length - 1];
      if (last === null || last === undefined) continue;
      const p = (await findPartition(redis, config.keyPrefix, customer)) as number;
      const member = dimension === 'custom' ? segment : last;
      expect(await redis.sismember(partitionKeys(config.keyPrefix, p).members(dimension, member), customer), chainKey).toBe(1);
    }
    console.log(
      `[crash] ${KILLS} kills, ${EVENTS} events, ${compared} customers equal to recomputation, ${seen.size} changes (${duplicates} duplicates re-emitted with the same id)`,
    );
  }, 600_000);
});

async function findPartition(redis: ReturnType<typeof testRedis>, prefix: string, customer: string): Promise<number | undefined> {
  for (let p = 0; p < PARTITIONS; p++) if (await redis.hexists(partitionKeys(prefix, p).state, customer)) return p;
  return undefined;
}
