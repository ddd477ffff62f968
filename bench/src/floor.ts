/**
 * The floor: the least any consumer keeping per-customer state in Redis must do per batch, on
 * the same log and with the same fetch settings as the segmenter. kafkajs consume, Avro decode
 * (avsc, no validation), one pipelined read of the fence and the batch's customers, and one Lua
 * script (bench/lua/floorCommit-2.lua, called by SHA) writing a small value per customer and
 * moving the fence. The segmenter's rate over this one is what its own logic costs.
 */
import { readFileSync } from 'node:fs';
import { type InputTopic, avroType } from '@crm/contracts';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { cpuMeter, round } from './procstat.ts';
import type { FetchSettings } from './throughput.ts';
import { cpuUsPerEvent } from './windows.ts';

const LUA = readFileSync(new URL('../lua/floorCommit-2.lua', import.meta.url), 'utf8');

export interface FloorKeys {
  fence: string;
  values: string;
}

/** The floor's keys for partition p under `prefix` (one hash tag per partition, as the store's). */
export function floorKeys(prefix: string, partition: number): FloorKeys {
  return { fence: `${prefix}:floor:{${partition}}:fence`, values: `${prefix}:floor:{${partition}}:values` };
}

/** Loads the script once (SCRIPT LOAD) and returns a commit that calls it by SHA (EVALSHA). */
export async function floorCommitter(redis: Redis) {
  const sha = (await redis.script('LOAD', LUA)) as string;
  return async (keys: FloorKeys, topic: string, readFence: string | null, nextFence: string, values: Map<string, string>): Promise<void> => {
    const args: string[] = [topic, readFence ?? '', nextFence];
    for (const [customer, value] of values) args.push(customer, value);
    await redis.evalsha(sha, 2, keys.fence, keys.values, ...args);
  };
}

export interface FloorResult {
  events: number;
  seconds: number;
  eps: number;
  cpu: Record<string, number | null>;
  cpu_us_per_event: Record<string, number | null>;
}

/**
 * A consumer group reading `topics` (contract topic -> actual name, as inputTopicsOf gives
 * them) from the start until `total` records are committed to Redis, timed from the first
 * batch committed.
 */
export async function floorConsume(
  kafka: Kafka,
  redis: Redis,
  topics: Record<InputTopic, string>,
  prefix: string,
  total: number,
  fetch: FetchSettings,
  servers: { kafka: number | null; redis: number | null },
): Promise<FloorResult> {
  const commit = await floorCommitter(redis);
  const consumer = kafka.consumer({
    groupId: `bench-floor-${Date.now().toString(36)}`,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
    maxWaitTimeInMs: fetch.maxWaitTimeInMs,
  });
  await consumer.connect();
  const contractOf = new Map(Object.entries(topics).map(([contract, actual]) => [actual, contract as InputTopic]));
  await consumer.subscribe({ topics: [...contractOf.keys()], fromBeginning: true });
  let count = 0;
  let t0 = 0;
  let n0 = 0;
  let t1 = 0;
  let meter: (() => Record<string, number | null>) | undefined;
  let cpu: Record<string, number | null> = {};
  const done = new Promise<void>((resolve, reject) => {
    void consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: fetch.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset }) => {
        try {
          const last = batch.messages[batch.messages.length - 1];
          if (last === undefined) return;
          const type = avroType(contractOf.get(batch.topic) as InputTopic);
          const values = new Map<string, string>();
          for (const m of batch.messages) {
            const e = type.fromBuffer((m.value as Buffer).subarray(5)) as { subject: string; time: string };
            values.set(e.subject, `${m.offset}|${e.time}`);
          }
          const keys = floorKeys(prefix, batch.partition);
          const customers = [...values.keys()];
          const replies =
            (await redis
              .pipeline()
              .hget(keys.fence, batch.topic)
              .hmget(keys.values, ...customers)
              .exec()) ?? [];
          for (const [err] of replies) if (err) throw err;
          const fence = (replies[0]?.[1] as string | null) ?? null;
          await commit(keys, batch.topic, fence, String(Number(last.offset) + 1), values);
          resolveOffset(last.offset);
          count += batch.messages.length;
          if (t0 === 0) {
            t0 = performance.now();
            n0 = count;
            meter = cpuMeter({ client: process.pid, kafka: servers.kafka, redis: servers.redis });
          }
          if (count >= total && t1 === 0) {
            t1 = performance.now();
            cpu = meter?.() ?? {};
            resolve();
          }
        } catch (err) {
          reject(err);
          throw err;
        }
      },
    });
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  const seconds = (t1 - t0) / 1000;
  const events = count - n0;
  return {
    events,
    seconds,
    eps: round(events / seconds),
    cpu,
    cpu_us_per_event: Object.fromEntries(Object.entries(cpu).map(([k, pct]) => [k, cpuUsPerEvent(pct, seconds, events)])),
  };
}

/** Removes the floor's keys of `partitions` partitions. */
export async function removeFloorKeys(redis: Redis, prefix: string, partitions: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const k = floorKeys(prefix, p);
    await redis.unlink(k.fence, k.values);
  }
}
