/**
 * End-to-end latency at offered loads: a paced producer sends live events (event time = send
 * time) for a while at each rate; every segment change that lands in the changes topic is
 * matched to the input event that caused it (cause.eventId), and its latency is the change's
 * landing time (LogAppendTime, stamped by the broker) minus the input's send time (CreateTime
 * set by the producer): both on this machine's clock. Only events that cause a change count.
 */
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type InputEvent, TOPICS, avroType } from '@crm/contracts';
import { partitionFor } from '@crm/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { metricSum, startSegmenter } from './child.ts';
import { type Encoder, inputEvents, topicOf } from './data.ts';
import { type Phase, inputTopicsOf } from './env.ts';
import { cpuMeter, round, writeSyscalls } from './procstat.ts';
import { type ProfileWindow, type StretchSummary, busyStretches, profileClockMicros } from './profile.ts';
import { type Record_, producePaced, producerOf } from './produce.ts';
import { type Percentiles, type Sample, type TailShape, percentiles, tailShape } from './stats.ts';
import { appliedSoFar, runtimeDetail } from './throughput.ts';

export interface LoadResult extends Percentiles {
  offered_eps: number;
  achieved_eps: number;
  events: number;
  events_with_changes: number;
  changes: number;
  cpu: Record<string, number | null>;
  /** The segmenter's event-loop stalls and GC pauses while this load ran (runtimeDetail), and its batches. */
  runtime: Record<string, number>;
  /** With --profile: the segmenter's busy stretches of STALL_MS or more during this load, and their code paths. */
  stalls?: StretchSummary;
  /** The events slower than the load's p95, by partition and by second of sending. */
  tail?: TailShape;
  /** The bench producer's own send round trips (acks=all) meanwhile: the broker's latency seen from outside the segmenter. */
  producer_ack_ms: Percentiles;
  /** For each of the tail's worst seconds: [second, slow events, the producer's slowest ack that second (ms)]. */
  worst_seconds_producer_ack_ms: Array<[number, number, number]>;
}

/** Seconds of traffic at the first load before measuring. */
export const WARM_UP_SECONDS = 5;

/** A busy stretch this long (no idle sample) is a stall worth naming. */
export const STALL_MS = 20;

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export async function latencyAtLoads(
  redis: Redis,
  kafka: Kafka,
  phase: Phase,
  partitions: number,
  encode: Encoder,
  loads: readonly number[],
  seconds: number,
  servers: { kafka: number | null; redis: number | null },
  log: (s: string) => void,
  profileDir?: string,
): Promise<Record<string, LoadResult>> {
  const actual = inputTopicsOf(phase.config);
  const child = await startSegmenter(phase.env, profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  const windows = new Map<number, ProfileWindow>();
  // Changes are collected raw (value, landing time) and decoded after the run: the bench
  // process shares the two cores with the segmenter, broker and Redis.
  const landed: Array<{ value: Buffer; at: number }> = [];
  const consumer = kafka.consumer({ groupId: `${phase.config.groupId}-reader`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: phase.config.topics.segmentChanges, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) landed.push({ value: m.value as Buffer, at: Number(m.timestamp) });
    },
  });
  const producer = producerOf(kafka);
  await producer.connect();
  const results: Record<string, LoadResult> = {};
  const sentAt = new Map<string, { load: number; at: number; partition: number }>();
  const acks = new Map<number, Array<{ sentAt: number; ms: number }>>();
  let appliedBefore = 0;
  try {
    // A warm-up at the first load, not measured: a fresh segmenter's first second is slow
    // (cold code, first requests on each connection) and alone set the first load's p99.
    const runs = [{ rate: loads[0] ?? 1000, warmUp: true }, ...loads.map((rate) => ({ rate, warmUp: false }))];
    for (const [i, { rate, warmUp }] of runs.entries()) {
      const count = Math.round(rate * (warmUp ? WARM_UP_SECONDS : seconds));
      // Generated histories re-timed to now: the order of each customer's events is kept, and
      // the event time is the planned send time (whole seconds, as the domain keeps them).
      const events: InputEvent[] = [...inputEvents({ count, seed: 100 + i, idPrefix: `${warmUp ? 'w' : 'l'}${rate}-`, end: Date.now(), days: 730 })];
      const start = Date.now() + 500;
      const records: Record_[] = events.map((e, k) => {
        const at = start + (k / rate) * 1000;
        const timed = { ...e, time: iso(at) } as InputEvent;
        const topic = topicOf(timed);
        return { topic: actual[topic], key: timed.subject, value: encode(topic, timed) };
      });
      await sleep(Math.max(0, start - Date.now()));
      const runtimeBefore = await segmenterRuntime(child.port);
      const from = profileClockMicros();
      const meter = cpuMeter({ segmenter: child.pid, kafka: servers.kafka, redis: servers.redis });
      const writesBefore = writeSyscalls(child.pid);
      const paced = await producePaced(producer, records, rate);
      if (!warmUp) acks.set(rate, paced.acks);
      if (!warmUp)
        for (const [k, e] of events.entries()) sentAt.set(e.id, { load: rate, at: paced.sentAt[k] as number, partition: partitionFor(e.subject, partitions) });
      // Drained: every record applied, then a moment for the last relay.
      const target = appliedBefore + records.length;
      const deadline = Date.now() + 120_000;
      while ((await appliedSoFar(redis, phase, partitions)) < target && Date.now() < deadline) await sleep(50);
      appliedBefore = target;
      if (warmUp) {
        log(`  warm-up: ${records.length} events at ${rate}/s, drained (not measured)`);
        continue;
      }
      const cpu = meter();
      const writesAfter = writeSyscalls(child.pid);
      windows.set(rate, { fromMicros: from, toMicros: profileClockMicros() });
      await sleep(1000);
      const runtimeAfter = await segmenterRuntime(child.port);
      const runtime = Object.fromEntries(Object.entries(runtimeAfter).map(([k, v]) => [k, round(v - (runtimeBefore[k] ?? 0), 1)]));
      // Socket writes are the segmenter's largest per-unit cost at low load (docs/architecture.md).
      if (writesBefore !== null && writesAfter !== null) runtime['write_syscalls'] = writesAfter - writesBefore;
      results[String(rate)] = {
        offered_eps: rate,
        achieved_eps: round(records.length / paced.seconds),
        events: records.length,
        events_with_changes: 0,
        changes: 0,
        cpu,
        runtime,
        producer_ack_ms: percentiles(paced.acks.map((a) => a.ms)),
        worst_seconds_producer_ack_ms: [],
        count: 0,
        p50: 0,
        p95: 0,
        p99: 0,
        max: 0,
      };
      log(
        `  offered ${rate}/s: ${records.length} events sent in ${paced.seconds.toFixed(1)} s, drained; segmenter CPU ${cpu['segmenter']}%; ${JSON.stringify(runtime)}`,
      );
    }
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
    await child.stop();
  }
  // Match changes to their causes.
  const type = avroType(TOPICS.segmentChanges);
  const perEvent = new Map<string, { changes: number; last: number }>();
  for (const { value, at } of landed) {
    const change = type.fromBuffer(value.subarray(5)) as { data: { cause: { eventId: string | null } } };
    const id = change.data.cause.eventId;
    if (id === null) continue;
    const seen = perEvent.get(id) ?? { changes: 0, last: 0 };
    seen.changes++;
    seen.last = Math.max(seen.last, at);
    perEvent.set(id, seen);
  }
  const samples = new Map<number, Sample[]>(loads.map((l) => [l, []]));
  const changes = new Map<number, number>();
  for (const [id, seen] of perEvent) {
    const sent = sentAt.get(id);
    if (sent === undefined) continue;
    samples.get(sent.load)?.push({ sentAt: sent.at, ms: seen.last - sent.at, partition: sent.partition });
    changes.set(sent.load, (changes.get(sent.load) ?? 0) + seen.changes);
  }
  for (const rate of loads) {
    const r = results[String(rate)];
    if (r === undefined) continue;
    const p = percentiles((samples.get(rate) ?? []).map((x) => x.ms));
    const tail = tailShape(samples.get(rate) ?? [], p.p95, partitions);
    // A loop, not Math.min(...): a spread of 150,000 arguments overflows the stack.
    const first = (samples.get(rate) ?? []).reduce((m, x) => Math.min(m, x.sentAt), Number.POSITIVE_INFINITY);
    const ackMax = (sec: number) => (acks.get(rate) ?? []).filter((a) => Math.floor((a.sentAt - first) / 1000) === sec).reduce((m, a) => Math.max(m, a.ms), 0);
    Object.assign(r, p, {
      events_with_changes: p.count,
      changes: changes.get(rate) ?? 0,
      tail,
      worst_seconds_producer_ack_ms: tail.worst.map(([sec, n]) => [sec, n, ackMax(sec)]),
    });
  }
  // The child wrote its profile as it exited: the code paths of its long busy stretches, per load.
  const file = profileDir === undefined ? undefined : readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (profileDir !== undefined && file !== undefined) {
    for (const rate of loads) {
      const r = results[String(rate)];
      if (r !== undefined) r.stalls = busyStretches(`${profileDir}/${file}`, STALL_MS, windows.get(rate));
    }
  }
  return results;
}

/** The segmenter's runtime telemetry and batch figures so far (counters: a load's share is a difference). */
async function segmenterRuntime(port: number): Promise<Record<string, number>> {
  const m = (name: string, filter = '') => metricSum(port, name, filter);
  return {
    ...(await runtimeDetail(m)),
    batches: await m('crm_batch_duration_seconds_count'),
    batch_ms_total: round((await m('crm_batch_duration_seconds_sum')) * 1000),
    batches_over_50ms: (await m('crm_batch_duration_seconds_count')) - (await m('crm_batch_duration_seconds_bucket', 'le="0.05"')),
    redis_commits: await m('crm_redis_commit_duration_seconds_count'),
    redis_commit_ms_total: round((await m('crm_redis_commit_duration_seconds_sum')) * 1000),
  };
}
