/**
 * Throughput: the raw kafkajs consume rate of the pre-produced log (the ceiling with this
 * client), then the segmenter's end-to-end rate over the same log, from the first input applied
 * to the last (progress read from the partitions' fences in Redis), with its CPU.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { type SegmenterChild, metricSum, startSegmenter } from './child.ts';
import { type Phase, inputTopicsOf } from './env.ts';
import { cpuMeter, round } from './procstat.ts';
import { type Progress, cpuUsPerEvent, startEndRatio, windowRates } from './windows.ts';
import type { CpuPerEvent } from './capacity.ts';

/** The throughput phase reports its rate per window of this many ms: flat as the state grows, or not. */
export const RATE_WINDOW_MS = 5000;

/** The fetch settings the segmenter uses (service.ts), so the ceiling is the same client doing the same reads. */
export interface FetchSettings {
  maxBytesPerPartition: number;
  maxWaitTimeInMs: number;
  partitionsConsumedConcurrently: number;
}

export interface RateResult {
  events: number;
  seconds: number;
  eps: number;
}

/** A consumer group reading the topics from the start, doing nothing per message but counting. */
export async function rawConsume(kafka: Kafka, topics: string[], total: number, fetch: FetchSettings): Promise<RateResult> {
  const consumer = kafka.consumer({
    groupId: `bench-raw-${Date.now().toString(36)}`,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
    maxWaitTimeInMs: fetch.maxWaitTimeInMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let count = 0;
  let t0 = 0;
  let n0 = 0;
  let t1 = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: fetch.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (t0 === 0) t0 = performance.now();
        count += batch.messages.length;
        if (n0 === 0) n0 = count;
        const last = batch.messages[batch.messages.length - 1];
        if (last !== undefined) resolveOffset(last.offset);
        if (count >= total && t1 === 0) {
          t1 = performance.now();
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  const seconds = (t1 - t0) / 1000;
  return { events: count - n0, seconds, eps: round((count - n0) / seconds) };
}

/** Sum over partitions and input topics of the fences: records applied (topics start at offset 0). */
export async function appliedSoFar(redis: Redis, phase: Phase, partitions: number): Promise<number> {
  const inputs = new Set(Object.values(inputTopicsOf(phase.config)));
  const pipeline = redis.pipeline();
  for (let p = 0; p < partitions; p++) pipeline.hgetall(partitionKeys(phase.config.keyPrefix, p).fence);
  const replies = (await pipeline.exec()) ?? [];
  let sum = 0;
  for (const [err, fence] of replies) {
    if (err) throw err;
    // The phase's own topics only: another phase may share its keys (the size probe, size-probe.ts).
    for (const [topic, v] of Object.entries(fence as Record<string, string>)) if (inputs.has(topic)) sum += Number(v);
  }
  return sum;
}

export interface SegmenterRun extends RateResult {
  cpu: Record<string, number | null>;
  changesEmitted: number;
  /** From the segmenter's /metrics at the end: where its time went. */
  detail: Record<string, number>;
  /** Events per second in each RATE_WINDOW_MS window, from the first record applied. */
  windows: number[];
  /** The last window's rate over the first's. */
  startEndRatio: number | null;
}

/**
 * Starts `instances` segmenters (one consumer group) on a pre-produced log of `total` records
 * and times them until every record is applied, from the moment the first record is applied
 * after all are ready. Stops them afterwards (graceful: the outbox is relayed).
 */
export async function segmenterThroughput(
  redis: Redis,
  kafka: Kafka,
  phase: Phase,
  partitions: number,
  total: number,
  servers: { kafka: number | null; redis: number | null },
  nodeArgs: string[],
  instances = 1,
): Promise<SegmenterRun> {
  const children: SegmenterChild[] = [];
  try {
    for (let i = 0; i < instances; i++) children.push(await startSegmenter(phase.env, i === 0 ? nodeArgs : []));
    let t0 = 0;
    let n0 = 0;
    let meter: (() => Record<string, number | null>) | undefined;
    let applied = 0;
    const progress: Progress[] = [];
    // 15 minutes, or longer for a log of millions at a few thousand events/s.
    const minutes = Math.max(15, Math.ceil(total / 2000 / 60));
    const deadline = Date.now() + minutes * 60_000;
    for (;;) {
      applied = await appliedSoFar(redis, phase, partitions);
      if (applied > 0 && t0 === 0) {
        t0 = performance.now();
        n0 = applied;
        const pids = Object.fromEntries(children.map((c, i) => [`segmenter${i === 0 ? '' : `_${i + 1}`}`, c.pid]));
        // The first instance's JavaScript thread too: what one instance saturates (capacity.ts).
        meter = cpuMeter({ ...pids, js_thread: children[0]?.pid ?? null, kafka: servers.kafka, redis: servers.redis }, new Set(['js_thread']));
      }
      if (t0 !== 0) progress.push({ t: performance.now(), n: applied });
      if (applied >= total) break;
      const dead = children.find((c) => c.ended() !== null);
      if (dead !== undefined) throw new Error(`segmenter ended (${dead.ended()}) after ${applied} of ${total} records:\n${dead.output()}`);
      if (Date.now() > deadline) throw new Error(`segmenter applied only ${applied} of ${total} records in ${minutes} minutes:\n${children[0]?.output()}`);
      await sleep(50);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = meter?.() ?? {};
    const m = async (name: string, filter = '') => {
      let sum = 0;
      for (const c of children) sum += await metricSum(c.port, name, filter);
      return sum;
    };
    const batches = await m('crm_batch_duration_seconds_count');
    const commits = await m('crm_redis_commit_duration_seconds_count');
    const detail = {
      batches,
      mean_batch_events: round((await m('crm_batch_size_events_sum')) / Math.max(1, batches)),
      mean_batch_ms: round(((await m('crm_batch_duration_seconds_sum')) / Math.max(1, batches)) * 1000, 1),
      mean_redis_commit_ms: round(((await m('crm_redis_commit_duration_seconds_sum')) / Math.max(1, commits)) * 1000, 1),
      commit_conflicts: await m('crm_commit_conflicts_total'),
      already_applied: await m('crm_events_consumed_total', 'outcome="already_applied"'),
      changes_committed: await m('crm_segment_changes_total'),
      ...(await runtimeDetail(m)),
    };
    await Promise.all(children.map((c) => c.stop()));
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(phase.config.topics.segmentChanges);
    await admin.disconnect();
    const windows = windowRates(progress, RATE_WINDOW_MS);
    return {
      events: applied - n0,
      seconds,
      eps: round((applied - n0) / seconds),
      cpu,
      changesEmitted: ends.reduce((a, o) => a + Number(o.high), 0),
      detail,
      windows,
      startEndRatio: startEndRatio(windows),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/** Event-loop stalls and GC pauses over a segmenter's life, from its runtime telemetry (runtime-telemetry.ts). */
export async function runtimeDetail(m: (name: string, filter?: string) => Promise<number>): Promise<Record<string, number>> {
  const loop = 'crm_event_loop_delay_seconds';
  const probes = await m(`${loop}_count`);
  return {
    loop_probes: probes,
    loop_delays_over_25ms: probes - (await m(`${loop}_bucket`, 'le="0.025"')),
    loop_delays_over_100ms: probes - (await m(`${loop}_bucket`, 'le="0.1"')),
    loop_delay_total_ms: round((await m(`${loop}_sum`)) * 1000),
    gc_pauses: await m('crm_gc_pause_seconds_count'),
    gc_pause_total_ms: round((await m('crm_gc_pause_seconds_sum')) * 1000),
    gc_major_pauses: await m('crm_gc_pause_seconds_count', 'kind="major"'),
    gc_major_pause_ms: round((await m('crm_gc_pause_seconds_sum', 'kind="major"')) * 1000),
    gc_pauses_over_10ms: (await m('crm_gc_pause_seconds_count')) - (await m('crm_gc_pause_seconds_bucket', 'le="0.01"')),
  };
}

/**
 * CPU µs per event of the segmenter instances (summed), the broker and Redis over a segmenter
 * run, and of the first instance's JavaScript thread (per event it handled, the events shared
 * evenly): the part of an instance that cannot use a second core.
 */
export function segmenterCpuPerEvent(run: SegmenterRun): CpuPerEvent {
  const instances = Object.entries(run.cpu).filter(([k]) => k.startsWith('segmenter'));
  const segmenterPct = instances.some(([, v]) => v === null) ? null : instances.reduce((a, [, v]) => a + (v ?? 0), 0);
  return {
    segmenter: cpuUsPerEvent(segmenterPct, run.seconds, run.events),
    js_thread: cpuUsPerEvent(run.cpu['js_thread'], run.seconds, run.events / Math.max(1, instances.length)),
    redis: cpuUsPerEvent(run.cpu['redis'], run.seconds, run.events),
    kafka: cpuUsPerEvent(run.cpu['kafka'], run.seconds, run.events),
  };
}
