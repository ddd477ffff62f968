#!/usr/bin/env node
/**
 * `pnpm bench` (node infra/src/cli.ts run -- node bench/src/main.ts): the segmenter's
 * benchmark on the local servers. Prints a table, writes bench/results/latest.json and
 * bench/results/latest.svg (latency percentiles against offered load). Numbers only: a
 * benchmark never fails on timing.
 *
 *   --quick           smaller sizes for development (100k events, 5 s per load, 10k timers)
 *   --profile         run the segmenters with --cpu-prof: the throughput phase's top frames; the latency
 *                     phase's busy stretches of 20 ms or more (loop blocked) per load, with their code paths
 *   --only=a,b        phases to run: throughput, latency, timers (memory comes with throughput)
 *   --instances=N     segmenter instances (one consumer group) in the throughput phase; default 1
 *   --events=N        size of the pre-produced log (generated and produced in chunks: 5,000,000 fits)
 *   --no-floor        skip the floor (kafkajs + Avro + one read + one Lua write per batch, floor.ts)
 *   --no-backfill     skip the segmenter's second pass over the log in CRM_MODE=backfill
 *   --no-probe        skip the size probe (a small log applied into an empty store and into the full one, size-probe.ts)
 *   --loads=a,b       offered loads (events/s) of the latency phase; default 1000,5000,20000
 *   --load-seconds=N  seconds per offered load (default 12, 5 with --quick)
 *   --node-options=S  NODE_OPTIONS of every segmenter child, e.g. --node-options=--max-semi-space-size=64
 *   --keep            keep the Redis keys and topics of the run (default: removed at the end)
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { registryOptions } from '@crm/service-kit';
import type { Redis } from 'ioredis';
import { type Capacity, type CpuPerEvent, capacity } from './capacity.ts';
import { latencyChart } from './chart.ts';
import { avroEncoder, inputEvents } from './data.ts';
import { type Phase, createTopics, deleteTopics, endpoints, inputTopicsOf, isolatedPhase, kafkaClient, redisClient, serverPids, versions } from './env.ts';
import { type FloorResult, floorConsume, removeFloorKeys } from './floor.ts';
import { type LoadResult, latencyAtLoads } from './latency.ts';
import { type MemoryResult, redisBytesPerCustomer, usedMemory } from './memory.ts';
import { round } from './procstat.ts';
import { produceEvents } from './produce.ts';
import { summarizeProfile } from './profile.ts';
import { type SizeProbe, sizeProbe } from './size-probe.ts';
import { RATE_WINDOW_MS, type RateResult, type SegmenterRun, rawConsume, segmenterCpuPerEvent, segmenterThroughput } from './throughput.ts';
import { type TimersResult, timersBurst } from './timers.ts';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const PARTITIONS = 6;
/** The segmenter's fetch settings (services/segmenter/src/service.ts), so the raw ceiling reads the same way. */
const SEGMENTER_FETCH = { maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100, partitionsConsumedConcurrently: 3 };

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const INSTANCES = Number(option('instances') ?? 1);
const only = new Set((option('only') ?? 'throughput,latency,timers').split(','));
const sizes = {
  events: Number(option('events') ?? (quick ? 100_000 : 1_000_000)),
  loads: (option('loads') ?? '1000,5000,20000').split(',').map(Number),
  loadSeconds: Number(option('load-seconds') ?? (quick ? 5 : 12)),
  timerCustomers: quick ? 10_000 : 100_000,
  probeEvents: quick ? 50_000 : 200_000,
  /** Seconds from choosing the due instant to it: seeding costs ~0.25 ms a customer on this machine. */
  timerLead: Math.ceil(10 + (quick ? 10_000 : 100_000) * 0.0004),
};

const log = (s: string) => console.error(s);
/** Environment every segmenter child gets on top of its phase's. */
const childEnv: Record<string, string> = option('node-options') === undefined ? {} : { NODE_OPTIONS: option('node-options') as string };
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function main(): Promise<void> {
  const runStart = performance.now();
  const ep = await endpoints();
  const redis = redisClient(ep);
  const kafka = kafkaClient(ep);
  const admin = kafka.admin();
  await admin.connect();
  const registry = new SchemaRegistry(registryOptions(ep.connections.registry));
  const encode = await avroEncoder(registry);
  const v = await versions(redis, ep.kafkaBrokers);
  const servers = serverPids(ep);
  log(`bench: node ${v.node}, Kafka ${v.kafka}, Redis ${v.redis}, ${v.cores} cores (${v.cpu})${quick ? ', --quick' : ''}`);
  const phases: Phase[] = [];

  let raw: RateResult | undefined;
  let floor: FloorResult | undefined;
  let seg: SegmenterRun | undefined;
  let backfill: SegmenterRun | undefined;
  let memory: MemoryResult | undefined;
  let profile: ReturnType<typeof summarizeProfile> | undefined;
  let probe: SizeProbe | undefined;
  if (only.has('throughput')) {
    const phase = isolatedPhase(ep, 'tput', { CRM_TIMER_INTERVAL_MS: '3600000', ...childEnv });
    phases.push(phase);
    await createTopics(admin, phase.config, PARTITIONS);
    const t0 = performance.now();
    const actual = inputTopicsOf(phase.config);
    const total = await produceEvents(kafka, actual, encode, inputEvents({ count: sizes.events, seed: 42, idPrefix: 'c', end: Date.now(), days: 730 }));
    log(`throughput: generated ${total} events (sample-data, Avro) and produced them into ${PARTITIONS}-partition topics in ${seconds(t0)} s`);
    const usedBefore = await usedMemory(redis);
    raw = await rawConsume(kafka, Object.values(actual), total, SEGMENTER_FETCH);
    log(`throughput: raw kafkajs consume ${raw.eps.toLocaleString('en-US')} events/s`);
    const profDir = `${RESULTS}profiles/${Date.now()}`;
    const profArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    seg = await segmenterThroughput(redis, kafka, phase, PARTITIONS, total, servers, profArgs, INSTANCES);
    log(
      `throughput: segmenter ${seg.eps.toLocaleString('en-US')} events/s (${seg.seconds.toFixed(1)} s), CPU ${JSON.stringify(seg.cpu)}, ${JSON.stringify(seg.detail)}`,
    );
    log(`throughput: per ${RATE_WINDOW_MS / 1000} s window ${seg.windows.join(', ')} events/s; last over first ${seg.startEndRatio ?? '-'}`);
    if (flag('profile')) {
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (file !== undefined) profile = summarizeProfile(`${profDir}/${file}`);
    }
    memory = await redisBytesPerCustomer(redis, phase.config.keyPrefix, PARTITIONS, usedBefore);
    log(`memory: ${memory.total} bytes per customer (${memory.customers} customers)`);
    // After the memory figures (its keys would count in used_memory), before the backfill.
    if (!flag('no-floor')) {
      floor = await floorConsume(kafka, redis, actual, phase.config.keyPrefix, total, SEGMENTER_FETCH, servers);
      await removeFloorKeys(redis, phase.config.keyPrefix, PARTITIONS);
      log(`throughput: floor ${floor.eps.toLocaleString('en-US')} events/s, CPU µs/event ${JSON.stringify(floor.cpu_us_per_event)}`);
    }
    if (!flag('no-backfill')) {
      // The same log again, into fresh keys, in backfill mode (quiet: no changes emitted).
      const bf = isolatedPhase(ep, 'backfill', {
        CRM_TIMER_INTERVAL_MS: '3600000',
        CRM_MODE: 'backfill',
        CRM_TOPIC_SUFFIX: phase.env['CRM_TOPIC_SUFFIX'] as string,
        ...childEnv,
      });
      phases.push(bf);
      backfill = await segmenterThroughput(redis, kafka, bf, PARTITIONS, total, servers, [], 1);
      log(`throughput: backfill ${backfill.eps.toLocaleString('en-US')} events/s (${backfill.seconds.toFixed(1)} s), CPU ${JSON.stringify(backfill.cpu)}`);
    }
    if (!flag('no-probe')) {
      const deps = { ep, admin, kafka, redis, encode, partitions: PARTITIONS, servers, childEnv, track: (p: Phase) => phases.push(p) };
      probe = await sizeProbe(deps, phase, memory.customers, sizes.probeEvents);
      log(`throughput: size probe ${JSON.stringify(probe)}`);
    }
  }

  const errors: Record<string, string> = {};
  let latency: Record<string, LoadResult> | undefined;
  if (only.has('latency')) {
    const phase = isolatedPhase(ep, 'lat', childEnv);
    phases.push(phase);
    await createTopics(admin, phase.config, PARTITIONS);
    log(`latency: ${sizes.loads.join(', ')} events/s, ${sizes.loadSeconds} s each`);
    const profileDir = flag('profile') ? `${RESULTS}profiles/${Date.now()}-latency` : undefined;
    latency = await latencyAtLoads(redis, kafka, phase, PARTITIONS, encode, sizes.loads, sizes.loadSeconds, servers, log, profileDir).catch((err: unknown) => {
      errors['latency'] = String(err);
      log(`latency: failed: ${String(err)}`);
      return undefined;
    });
  }

  let timers: TimersResult | undefined;
  if (only.has('timers')) {
    const phase = isolatedPhase(ep, 'timers', childEnv);
    phases.push(phase);
    await createTopics(admin, phase.config, PARTITIONS);
    const profileDir = flag('profile') ? `${RESULTS}profiles/${Date.now()}-timers` : undefined;
    timers = await timersBurst(redis, kafka, phase, PARTITIONS, sizes.timerCustomers, sizes.timerLead, servers, profileDir).catch((err: unknown) => {
      errors['timers'] = String(err);
      log(`timers: failed: ${String(err)}`);
      return undefined;
    });
    if (timers) log(`timers: ${timers.customers} due at once, all changes out ${timers.seconds} s after the due instant`);
    if (timers?.profile)
      log(`timers: profile of the burst (busy ${timers.profile.busyMs} ms): ${timers.profile.inclusive.map((i) => `${i.fn} ${i.busyPct}%`).join(', ')}`);
  }

  if (!flag('keep')) {
    for (const p of phases) {
      await removeKeys(redis, p.config.keyPrefix);
      await deleteTopics(admin, p.config);
    }
  }
  await admin.disconnect();
  redis.disconnect();

  const result = {
    at: new Date().toISOString(),
    quick,
    cores: v.cores,
    cpu_model: v.cpu,
    versions: { node: v.node, kafka: v.kafka, redis: v.redis },
    partitions: PARTITIONS,
    input: 'sample-data (BG/NBD), Avro via the registry',
    events: sizes.events,
    segmenter_instances: INSTANCES,
    segmenter_node_options: childEnv['NODE_OPTIONS'] ?? null,
    throughput_eps: seg?.eps ?? null,
    raw_consume_eps: raw?.eps ?? null,
    ratio_to_raw: seg && raw ? round(seg.eps / raw.eps, 3) : null,
    floor_eps: floor?.eps ?? null,
    ratio_to_floor: seg && floor ? round(seg.eps / floor.eps, 3) : null,
    backfill_eps: backfill?.eps ?? null,
    throughput_seconds: seg ? round(seg.seconds, 2) : null,
    throughput_window_seconds: RATE_WINDOW_MS / 1000,
    throughput_window_eps: seg?.windows ?? null,
    throughput_start_end_ratio: seg?.startEndRatio ?? null,
    size_probe: probe ?? null,
    cpu_percent_during_throughput: seg?.cpu ?? null,
    cpu_us_per_event: seg ? segmenterCpuPerEvent(seg) : null,
    capacity: seg ? modelOf(seg, v.cores) : null,
    floor: floor ?? null,
    backfill: backfill
      ? { eps: backfill.eps, seconds: round(backfill.seconds, 2), cpu: backfill.cpu, cpu_us_per_event: segmenterCpuPerEvent(backfill), detail: backfill.detail }
      : null,
    segment_changes_emitted: seg?.changesEmitted ?? null,
    segmenter_detail: seg?.detail ?? null,
    latency_ms: latency ? Object.fromEntries(Object.entries(latency).map(([k, r]) => [k, { p50: r.p50, p95: r.p95, p99: r.p99, max: r.max }])) : null,
    latency_detail: latency ?? null,
    redis_bytes_per_customer: memory?.total ?? null,
    redis_memory: memory ?? null,
    timers_100k_seconds: timers?.seconds ?? null,
    timers: timers ?? null,
    raw_consumer_fetch: SEGMENTER_FETCH,
    profile: profile ?? null,
    errors,
    run_seconds: round((performance.now() - runStart) / 1000, 1),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (latency) {
    const points = Object.values(latency).map((r) => ({ load: r.offered_eps, p50: r.p50, p95: r.p95, p99: r.p99, max: r.max }));
    writeFileSync(`${RESULTS}latest.svg`, latencyChart(points, `segmenter end-to-end latency (${v.cores} cores, ${new Date().toISOString().slice(0, 10)})`));
  }
  printTable(result, latency, memory, timers, profile);
}

/**
 * The capacity model (capacity.ts) from this run's CPU per event: what one instance, one Redis
 * shard and this machine carry, and the rate predicted for the run's instances on this machine.
 */
function modelOf(run: SegmenterRun, cores: number): Capacity | null {
  return capacity(segmenterCpuPerEvent(run), { instances: INSTANCES, partitions: PARTITIONS, redisShards: 1, sharedCores: cores });
}

function printTable(
  r: {
    throughput_eps: number | null;
    raw_consume_eps: number | null;
    ratio_to_raw: number | null;
    floor_eps: number | null;
    ratio_to_floor: number | null;
    backfill_eps: number | null;
    throughput_window_eps: number[] | null;
    throughput_start_end_ratio: number | null;
    size_probe: SizeProbe | null;
    cpu_us_per_event: CpuPerEvent | null;
    capacity: Capacity | null;
    segmenter_instances: number;
    floor: FloorResult | null;
    cpu_percent_during_throughput: Record<string, number | null> | null;
    run_seconds: number;
  },
  latency: Record<string, LoadResult> | undefined,
  memory: MemoryResult | undefined,
  timers: TimersResult | undefined,
  profile: ReturnType<typeof summarizeProfile> | undefined,
): void {
  const n = (x: number | null | undefined, d = 0) =>
    x === null || x === undefined || Number.isNaN(x) ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: d });
  const rows: Array<[string, string]> = [];
  const cpu = r.cpu_percent_during_throughput;
  rows.push(['raw kafkajs consume', `${n(r.raw_consume_eps)} events/s`]);
  const fc = r.floor?.cpu_us_per_event;
  if (r.floor)
    rows.push([
      'floor (Avro, 1 read, 1 Lua/batch)',
      `${n(r.floor_eps)} events/s  (CPU µs/event: client ${n(fc?.['client'], 1)}  kafka ${n(fc?.['kafka'], 1)}  redis ${n(fc?.['redis'], 1)})`,
    ]);
  rows.push([
    'segmenter end to end',
    `${n(r.throughput_eps)} events/s  (${n(r.ratio_to_raw === null ? null : r.ratio_to_raw * 100, 1)}% of raw, ${n(r.ratio_to_floor === null ? null : r.ratio_to_floor * 100, 1)}% of floor)`,
  ]);
  if (cpu) {
    const instances = Object.entries(cpu).filter(([k]) => k.startsWith('segmenter'));
    const segmenters = instances.map(([k, v]) => `${k} ${n(v)}`).join('  ');
    rows.push(['  CPU (% of one core)', `${segmenters}  kafka ${n(cpu['kafka'])}  redis ${n(cpu['redis'])}`]);
  }
  const us = r.cpu_us_per_event;
  if (us)
    rows.push([
      '  CPU µs per event',
      `segmenter ${n(us.segmenter, 1)} (its JavaScript thread ${n(us.js_thread, 1)})  kafka ${n(us.kafka, 1)}  redis ${n(us.redis, 1)}`,
    ]);
  const c = r.capacity;
  if (c)
    rows.push([
      '  capacity model',
      `one instance ${n(c.instance_eps)}, one Redis shard ${n(c.redis_shard_eps)}, this machine ${n(c.machine_eps)} events/s: predicts ${n(c.predicted_eps)} for ${r.segmenter_instances} instance(s) here (${c.bound}-bound), measured ${n(r.throughput_eps)}`,
    ]);
  if (r.throughput_window_eps)
    rows.push([
      `  per ${RATE_WINDOW_MS / 1000} s window`,
      `${r.throughput_window_eps.map((x) => n(x)).join(' ')} events/s  (last/first ${n(r.throughput_start_end_ratio, 2)})`,
    ]);
  const sp = r.size_probe;
  if (sp) {
    const side = (p: SizeProbe['empty']) =>
      `${n(p.eps)} events/s (µs/event segmenter ${n(p.cpu_us_per_event.segmenter, 1)}, JS thread ${n(p.cpu_us_per_event.js_thread, 1)}, redis ${n(p.cpu_us_per_event.redis, 1)})`;
    rows.push([
      '  size probe',
      `${n(sp.events)} new customers' events: into an empty store ${side(sp.empty)}; holding ${n(sp.customers_held)} customers ${side(sp.full)}; full/empty ${n(sp.full_over_empty, 2)}`,
    ]);
  }
  if (r.backfill_eps !== null) rows.push(['segmenter backfill mode', `${n(r.backfill_eps)} events/s`]);
  for (const [load, l] of Object.entries(latency ?? {})) {
    rows.push([
      `latency @ ${n(Number(load))}/s`,
      `p50 ${n(l.p50)}  p95 ${n(l.p95)}  p99 ${n(l.p99)}  max ${n(l.max)} ms  (${n(l.events_with_changes)} of ${n(l.events)} events changed; sent at ${n(l.achieved_eps)}/s; segmenter CPU ${n(l.cpu['segmenter'])}%)`,
    ]);
    const rt = l.runtime;
    rows.push([
      '  segmenter runtime',
      `loop delays >25 ms ${n(rt['loop_delays_over_25ms'])}, >100 ms ${n(rt['loop_delays_over_100ms'])}; GC ${n(rt['gc_pauses'])} pauses ${n(rt['gc_pause_total_ms'])} ms (major ${n(rt['gc_major_pauses'])}, ${n(rt['gc_major_pause_ms'])} ms); batches ${n(rt['batches'])}, ${n(rt['batches_over_50ms'])} over 50 ms${rt['write_syscalls'] === undefined ? '' : `; write syscalls ${n(rt['write_syscalls'])} (${n(rt['write_syscalls'] / Math.max(1, rt['batches'] ?? 0), 1)} per batch)`}`,
    ]);
    if (l.tail)
      rows.push([
        `  slower than p95 (${n(l.tail.thresholdMs)} ms)`,
        `${n(l.tail.slow)} events in ${n(l.tail.secondsWithSlow)} of ${n(l.tail.seconds)} s; by partition ${l.tail.byPartition.join('/')}; worst seconds ${l.tail.worst
          .slice(0, 3)
          .map(([sec, count, parts, max]) => `@${sec}s ${count} events ${parts} partitions max ${max} ms`)
          .join(', ')}`,
      ]);
    rows.push([
      '  bench producer acks',
      `p50 ${n(l.producer_ack_ms.p50)}  p99 ${n(l.producer_ack_ms.p99)}  max ${n(l.producer_ack_ms.max)} ms; in the worst seconds: ${l.worst_seconds_producer_ack_ms
        .slice(0, 5)
        .map(([sec, , ms]) => `@${sec}s ${n(ms)} ms`)
        .join(', ')}`,
    ]);
    if (l.stalls)
      rows.push([
        `  busy stretches ≥${l.stalls.minMs} ms`,
        `${n(l.stalls.count)} (${n(l.stalls.totalMs)} ms, longest ${n(l.stalls.longestMs)}); ${l.stalls.functions
          .slice(0, 4)
          .map((f) => `${f.frame.split(' ')[0]} ${n(f.ms)} ms`)
          .join(', ')}`,
      ]);
  }
  if (memory) {
    rows.push([
      'Redis bytes/customer',
      `${n(memory.total)}  = state ${n(memory.state)} + timers ${n(memory.timers)} + segment sets ${n(memory.segment_sets)} + history ${n(memory.history)} + other ${n(memory.other_partition_keys)}`,
    ]);
    rows.push([
      '  used_memory growth',
      `${n(memory.used_memory_growth)} bytes/customer (${n(memory.customers)} customers; ${n(memory.histories)} histories, ~${n(memory.history_value_chars)} chars each)`,
    ]);
  }
  if (timers)
    rows.push([
      `timers: ${n(timers.customers)} due at once`,
      `${n(timers.seconds, 2)} s to the last change (first after ${n(timers.first_change_seconds, 2)} s; ${n(timers.changes)} changes; segmenter CPU ${n(timers.cpu['segmenter'])}%)`,
    ]);
  rows.push(['run time', `${n(r.run_seconds)} s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, val] of rows) console.log(`${k.padEnd(w)}  ${val}`);
  if (profile) {
    console.log(`\nsegmenter CPU profile (${n(profile.totalMs)} ms sampled), self time by area:`);
    for (const a of profile.byArea.slice(0, 12)) console.log(`  ${String(a.pct).padStart(5)}%  ${a.area}`);
    console.log('top frames:');
    for (const f of profile.top.slice(0, 20)) console.log(`  ${String(f.pct).padStart(5)}%  ${f.frame}`);
  }
  console.log(`\nresults: bench/results/latest.json${latency ? ', bench/results/latest.svg' : ''}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
