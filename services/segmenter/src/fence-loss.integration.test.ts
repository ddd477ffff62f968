/**
 * Redis loses writes the segmenter already committed to Kafka, on a Redis server of the test's
 * own (append-only, fsync every second, truncated files refused at load, as infra runs it):
 * (a) FLUSHALL, as a restore from an empty backup or a wrong failover would leave it; (a2) the
 *     same with CRM_ON_FENCE_LOSS=stop, (a3) with a log that lost its first records: held;
 * (b) a machine crash that loses the tail of the append-only file; (b2) the same while the
 *     segmenter keeps running (it audits on reconnection);
 * (c) the same cut inside a MULTI block (a torn transaction), which Redis 7.0 would replay
 *     wrongly if it accepted the file: here it refuses, and `redis-check-aof --fix` cuts at
 *     the transaction boundary.
 * Every scenario: the input is processed and the offsets committed, Redis loses writes, a new
 * segmenter starts (or the running one goes on) with no new input (every partition is quiet).
 * It must say what Redis lost (a JSON log line with partition, topic, fence and committed
 * offset; the metric) and re-apply from the fence, so that every customer's state equals a from-scratch recomputation and the
 * changes topic holds unbroken chains (what was emitted before is not emitted again from other
 * intermediate states; a change emitted twice has the same id and content).
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { AofRedis, DAY_MS, generateEvents, logSink, testKafka, testRegistry, waitFor } from '@crm/testkit';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { SegmenterConfig } from './config.ts';
import { Segmenter } from './service.ts';
import {
  createTopics,
  expectStatesEqualRecomputation,
  expectUnbrokenChains,
  isolatedEnv,
  readChanges,
  topicOf,
  waitUntilAllApplied,
} from './testing/harness.ts';

const PARTITIONS = 2;
const CUSTOMERS = 300;
const EVENTS = 4_000;
const LOST_WRITES = ['Redis lost writes: fence behind the committed offset', 'Redis lost writes: fence missing where offsets were committed'];

let own: AofRedis | undefined;
let client: Redis | undefined;
/** Segmenters a failed test left running. */
const running = new Set<Segmenter>();
afterEach(async () => {
  for (const s of running) await s.stop();
  running.clear();
  await client?.quit();
  await own?.close();
  client = undefined;
  own = undefined;
});

/**
 * Processes a generated log to the end with one segmenter (in two halves), lets `damage` make
 * Redis lose writes (it gets the size of the append-only file when the first half was applied),
 * then runs a second segmenter over the same (unchanged) log, or keeps the first one running
 * through the damage (`whileRunning`), and checks what it did.
 */
async function scenario(
  seed: number,
  damage: (redis: AofRedis, halfway: number, config: SegmenterConfig) => Promise<void>,
  { whileRunning = false, policy = 'reapply', heldFor = 'policy' } = {},
): Promise<Array<Record<string, unknown>>> {
  own = await AofRedis.start();
  const redis = own;
  const { config } = isolatedEnv({ REDIS_URL: redis.url, CRM_PARTITIONS: String(PARTITIONS), CRM_ON_FENCE_LOSS: policy, CRM_STALL_TIMEOUT_MS: '1000' });
  const kafka = testKafka();
  const registry = testRegistry();
  await createTopics(kafka, config, PARTITIONS);
  const now = Date.now();
  const events = generateEvents({ seed, customers: CUSTOMERS, events: EVENTS, start: now - 20 * DAY_MS, end: now - 60_000, prefix: `f${seed}` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = async (part: typeof events) => {
    const byTopic = new Map<string, Array<{ key: string; value: string }>>();
    for (const e of part) byTopic.set(topicOf(config, e), [...(byTopic.get(topicOf(config, e)) ?? []), { key: e.subject, value: JSON.stringify(e) }]);
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  };

  client = redis.client();
  const firstSink = logSink('info');
  const first = new Segmenter(config, firstSink.logger);
  await first.start();
  running.add(first);
  await send(events.slice(0, EVENTS / 2));
  await waitUntilAllApplied(kafka, client, config, PARTITIONS);
  const halfway = statSync(redis.incrFile()).size;
  await send(events.slice(EVENTS / 2));
  await producer.disconnect();
  await waitUntilAllApplied(kafka, client, config, PARTITIONS);
  if (!whileRunning) {
    await first.stop();
    running.delete(first);
  }
  await client.quit();
  client = undefined;

  await damage(redis, halfway, config);

  client = redis.client();
  const sink = whileRunning ? firstSink : logSink('info');
  const second = whileRunning ? first : new Segmenter(config, sink.logger);
  if (!whileRunning) await second.start();
  running.add(second);
  if (policy === 'stop' || heldFor === 'log_truncated') {
    try {
      // Held for an operator: not consumed, not ready, counted, and the log says what to do.
      const held = await waitFor('every partition held', () => {
        const lines = sink.lines.filter((l) => l['msg'] === 'partition held: not consumed until an operator acts');
        return lines.length === PARTITIONS ? lines : undefined;
      });
      for (const line of held) expect(line).toMatchObject({ level: 50, reason: heldFor, todo: expect.stringContaining('crm replay') });
      expect((await second.metrics.partitionsHeld.get()).values[0]?.value).toBe(PARTITIONS);
      const readiness = second.readiness();
      expect(readiness.ready).toBe(false);
      expect(String(readiness.detail['reasons'])).toMatch(/partitions held after Redis lost writes: 0, 1/);
      for (let p = 0; p < PARTITIONS; p++) expect(await client.hgetall(`${config.keyPrefix}:{${p}}:fence`)).toEqual({});
    } finally {
      await second.stop();
      running.delete(second);
    }
    return sink.lines.filter((l) => LOST_WRITES.includes(l['msg'] as string));
  }
  try {
    await waitFor('the lost writes reported', () => sink.lines.some((l) => LOST_WRITES.includes(l['msg'] as string)));
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    // Re-applied up to where the first run was, timers fire again: what they emit must chain too.
    await waitFor('timers free again and nothing due', async () => {
      for (let p = 0; p < PARTITIONS; p++) if ((await client?.zcount(`${config.keyPrefix}:{${p}}:timers`, '-inf', Date.now())) !== 0) return false;
      return true;
    });
  } finally {
    await second.stop();
    running.delete(second);
  }

  // Kafka's committed offsets never went back below what was emitted, and end at the fences.
  const admin = kafka.admin();
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.orders, config.topics.interactions, config.topics.profiles] });
  await admin.disconnect();
  for (const { topic, partitions } of committed) {
    for (const { partition, offset } of partitions)
      expect(offset, `${topic}/${partition}`).toBe((await client.hget(`${config.keyPrefix}:{${partition}}:fence`, topic)) ?? '-1');
  }

  const regressions = (await second.metrics.fenceRegressions.get()).values.reduce((n, v) => n + v.value, 0);
  const reported = sink.lines.filter((l) => LOST_WRITES.includes(l['msg'] as string));
  expect(regressions).toBe(reported.length);
  for (const line of reported) {
    expect(line).toMatchObject({ level: 50, policy, committed: expect.any(String) });
    expect([...Object.values(config.topics)]).toContain(line['topic']);
    expect(line['partition']).toBeTypeOf('number');
  }

  const compared = await expectStatesEqualRecomputation(client, config, PARTITIONS, events, Date.now(), (actual, expected, id) =>
    expect(actual, id).toBe(expected),
  );
  expect(compared).toBe(new Set(events.map((e) => e.subject)).size);
  // Records whose changes were emitted before (below the committed offsets) are re-applied without
  // emitting them again; anything emitted twice (an outbox trim or a timer Redis lost) has the same id and content.
  await expectUnbrokenChains(client, config, PARTITIONS, await readChanges({ kafka, registry, config }));
  return reported;
}

/**
 * A machine crash with appendfsync everysec: what the kernel had not written to disk is gone
 * (here: half of what was written while the second half of the log was applied). A cut inside a
 * command is refused at load (aof-load-truncated no), then repaired.
 */
async function loseAofTail(redis: AofRedis, halfway: number): Promise<void> {
  await redis.kill();
  const file = redis.incrFile();
  truncateSync(file, Math.floor((halfway + statSync(file).size) / 2));
  if ((await redis.restart()).exitCode !== null) {
    redis.fixAof();
    expect((await redis.restart()).exitCode).toBeNull();
  }
}

describe('Redis loses writes already committed to Kafka', () => {
  it('(a) after FLUSHALL, every fence is missing: reported, and every partition re-applied from the log start', async () => {
    const reported = await scenario(31, async (redis) => {
      const c = redis.client();
      await c.flushall();
      await c.quit();
    });
    // Every partition lost every topic it had records of.
    expect(new Set(reported.map((l) => `${l['partition']}`)).size).toBe(PARTITIONS);
    for (const line of reported) expect(line).toMatchObject({ fence: null, msg: 'Redis lost writes: fence missing where offsets were committed' });
  }, 240_000);

  it('(a2) after FLUSHALL with CRM_ON_FENCE_LOSS=stop: reported, and every partition held for an operator', async () => {
    const reported = await scenario(
      35,
      async (redis) => {
        const c = redis.client();
        await c.flushall();
        await c.quit();
      },
      { policy: 'stop' },
    );
    expect(reported.length).toBeGreaterThanOrEqual(PARTITIONS);
    for (const line of reported) expect(line).toMatchObject({ policy: 'stop', action: 'partition held' });
  }, 240_000);

  it('(a3) after FLUSHALL when the log no longer starts at 0 (retention): reported, and held, since nothing can be re-applied', async () => {
    const reported = await scenario(
      36,
      async (redis, _, config) => {
        const c = redis.client();
        await c.flushall();
        await c.quit();
        const admin = testKafka().admin();
        await admin.connect();
        const inputs = [config.topics.orders, config.topics.interactions, config.topics.profiles];
        await admin.fetchTopicMetadata({ topics: inputs });
        for (const topic of inputs) {
          // Retention deleted each partition's first record.
          const nonEmpty = (await admin.fetchTopicOffsets(topic)).filter((o) => BigInt(o.high) > 0n);
          await admin.deleteTopicRecords({ topic, partitions: nonEmpty.map(({ partition }) => ({ partition, offset: '1' })) });
        }
        await admin.disconnect();
      },
      { heldFor: 'log_truncated' },
    );
    for (const line of reported) expect(line).toMatchObject({ policy: 'reapply', action: 'partition held', fence: null });
  }, 240_000);

  it('(b) after a crash that lost the tail of the append-only file: fences behind, reported, re-applied from them', async () => {
    const reported = await scenario(32, loseAofTail);
    expect(reported.some((l) => l['fence'] !== null)).toBe(true);
    for (const l of reported) if (l['fence'] !== null) expect(BigInt(l['fence'] as string)).toBeLessThan(BigInt(l['committed'] as string));
  }, 240_000);

  it('(b2) the same, with the segmenter running through the Redis crash: the reconnection is audited', async () => {
    const reported = await scenario(34, loseAofTail, { whileRunning: true });
    expect(reported.some((l) => l['fence'] !== null)).toBe(true);
  }, 240_000);

  it('(c) after a cut inside a MULTI block: Redis refuses to load, the repair cuts at the transaction boundary, then as (b)', async () => {
    let multiAt = -1;
    const reported = await scenario(33, async (redis, halfway) => {
      await redis.kill();
      const file = redis.incrFile();
      const aof = readFileSync(file);
      // A transaction (one commitBatch's effects) written while the second half of the log was applied, cut in the middle of its second command.
      const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n');
      multiAt = aof.indexOf(MULTI, halfway);
      expect(multiAt).toBeGreaterThan(0);
      const firstCommand = multiAt + MULTI.length;
      const secondCommand = aof.indexOf(Buffer.from('\r\n*'), firstCommand) + 2;
      const exec = aof.indexOf(Buffer.from('*1\r\n$4\r\nEXEC\r\n'), multiAt);
      const cut = secondCommand + 10;
      expect(cut).toBeLessThan(exec);
      truncateSync(file, cut);

      const refused = await redis.restart();
      expect(refused.exitCode, redis.output.slice(-2000)).not.toBeNull();
      expect(redis.output).toMatch(/Unexpected end of file|aof-load-truncated/);
      const repair = redis.fixAof();
      expect(repair).toMatch(/Successfully truncated AOF/);
      // Cut before the MULTI: the transaction is gone whole, nothing of it half-applied.
      expect(statSync(file).size).toBe(multiAt);
      expect((await redis.restart()).exitCode).toBeNull();
    });
    expect(multiAt).toBeGreaterThan(0);
    expect(reported.some((l) => l['fence'] !== null)).toBe(true);
  }, 240_000);
});
