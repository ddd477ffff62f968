/**
 * Timers: N customers due at the same instant T0. Each bought monthly three times, the last
 * time 90 days before T0, so at T0 each turns At Risk (RFM segment and stage: two changes),
 * with no input. Their states are seeded straight into Redis through the same atomic commit
 * the segmenter uses (commitBatch.lua: states, timers, segment sets), on the partition Kafka's
 * default partitioner gives each id; then the time from T0 until the last of their changes
 * lands in the changes topic (LogAppendTime) is measured. With a profile directory the
 * segmenter runs under --cpu-prof, and its profile is summarized over that burst alone.
 */
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InputEvent } from '@crm/contracts';
import { type CustomerState, DAY_MS, type SegmentChange, apply, encodeState, evaluate, nextDueAt } from '@crm/domain';
import { type CustomerWrite, type IndexMove, commitBatch, partitionFor, partitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { startSegmenter } from './child.ts';
import type { Phase } from './env.ts';
import { cpuMeter, round } from './procstat.ts';
import { type ProfileSummary, type ProfileWindow, profileClockAt, summarizeProfile } from './profile.ts';

export interface TimersResult {
  customers: number;
  /** From T0 to the last change landing in the changes topic. */
  seconds: number | null;
  /** From T0 to the first change landing (the timer check interval shows here). */
  first_change_seconds: number | null;
  changes: number;
  customers_changed: number;
  seed_seconds: number;
  cpu: Record<string, number | null>;
  /** The segmenter's CPU profile from T0 to the last change (when profiled). */
  profile: ProfileSummary | null;
}

/** The timer path's stages (services/segmenter partition-worker, @crm/store, @crm/domain, @crm/contracts, kafkajs). */
const TIMER_PATH = [
  'dueCustomers',
  'readBatchContext',
  'decodeState',
  'evaluate',
  'nextDueAt',
  'encodeState',
  'encodeChanges',
  'encodeOutput',
  'encodeOutputs',
  'historyOf',
  'commitBatch',
  'relayCommitted',
  'sendRequest',
  'ackOutbox',
];

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
/** Customers per seeding commit. */
const SEED_CHUNK = 1000;

function order(customer: string, at: number, n: number): InputEvent {
  return {
    specversion: '1.0',
    id: `t-${customer}-${n}`,
    source: 'urn:crm:bench',
    type: 'commerce.order.completed',
    time: iso(at),
    subject: customer,
    data: { orderId: `t-${customer}-o${n}`, amountMinor: 5_000, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
  } as InputEvent;
}

function toIndexMove(c: SegmentChange): IndexMove {
  if (c.dimension === 'custom') {
    const name = c.segment ?? 'unnamed';
    return { customerId: c.customerId, dimension: 'custom', from: c.from === null ? null : name, to: c.to === null ? null : name };
  }
  return { customerId: c.customerId, dimension: c.dimension, from: c.from, to: c.to };
}

export async function timersBurst(
  redis: Redis,
  kafka: Kafka,
  phase: Phase,
  partitions: number,
  customers: number,
  leadSeconds: number,
  servers: { kafka: number | null; redis: number | null },
  profileDir?: string,
): Promise<TimersResult> {
  const { config } = phase;
  let window: ProfileWindow | undefined;
  let result: Omit<TimersResult, 'profile'>;
  const child = await startSegmenter(phase.env, profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  const consumer = kafka.consumer({ groupId: `${config.groupId}-reader`, maxWaitTimeInMs: 20 });
  try {
    const T0 = Math.ceil(Date.now() / 1000) * 1000 + leadSeconds * 1000;
    const seedStart = performance.now();
    const byPartition = new Map<number, { writes: CustomerWrite[]; moves: IndexMove[] }>();
    const flush = async (p: number) => {
      const b = byPartition.get(p);
      if (b === undefined || b.writes.length === 0) return;
      byPartition.set(p, { writes: [], moves: [] });
      await commitBatch(redis, partitionKeys(config.keyPrefix, p), { fence: { expected: {}, next: {} }, customers: b.writes, records: [], moves: b.moves });
    };
    const last = T0 - 90 * DAY_MS;
    for (let i = 0; i < customers; i++) {
      const id = `t${i}`;
      let s: CustomerState | null = null;
      const changes: SegmentChange[] = [];
      for (const [n, daysBefore] of [60, 30, 0].entries()) {
        const res = apply(s, order(id, last - daysBefore * DAY_MS, n), config.domain);
        s = res.state;
        changes.push(...res.changes);
      }
      const ev = evaluate(s as CustomerState, T0 - 1000, config.domain);
      changes.push(...ev.changes);
      const due = nextDueAt(ev.state, config.domain);
      if (due !== T0) throw new Error(`seeded customer ${id} is due at ${due === null ? 'never' : iso(due)}, not ${iso(T0)}`);
      const p = partitionFor(id, partitions);
      const b = byPartition.get(p) ?? { writes: [], moves: [] };
      b.writes.push({ id, version: 0, state: encodeState(ev.state, id), dueAt: due });
      b.moves.push(...changes.map(toIndexMove));
      byPartition.set(p, b);
      if (b.writes.length >= SEED_CHUNK) await flush(p);
    }
    for (let p = 0; p < partitions; p++) await flush(p);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    if (Date.now() >= T0) throw new Error(`seeding took ${seedSeconds.toFixed(1)} s, past T0: raise the lead time`);

    const subjects = new Set<string>();
    let changes = 0;
    let first = 0;
    let lastAt = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: config.topics.segmentChanges, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          changes++;
          const at = Number(m.timestamp);
          if (first === 0 || at < first) first = at;
          if (at > lastAt) lastAt = at;
          if (m.key !== null) subjects.add(m.key.toString());
        }
      },
    });
    await sleep(Math.max(0, T0 - Date.now()));
    const meter = cpuMeter({ segmenter: child.pid, kafka: servers.kafka, redis: servers.redis });
    const deadline = T0 + 120_000;
    while (subjects.size < customers && Date.now() < deadline) await sleep(50);
    const cpu = meter();
    // Every customer changed; any late second change of the same customers lands within moments.
    await sleep(1000);
    const done = subjects.size >= customers;
    window = { fromMicros: profileClockAt(T0), toMicros: profileClockAt(lastAt === 0 ? Date.now() : lastAt) };
    result = {
      customers,
      seconds: done ? round((lastAt - T0) / 1000, 2) : null,
      first_change_seconds: first === 0 ? null : round((first - T0) / 1000, 2),
      changes,
      customers_changed: subjects.size,
      seed_seconds: round(seedSeconds, 1),
      cpu,
    };
  } finally {
    await consumer.disconnect();
    // The child writes its profile as it exits.
    await child.stop();
  }
  const file = profileDir === undefined ? undefined : readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  const profile = file === undefined ? null : summarizeProfile(`${profileDir}/${file}`, { topN: 30, window, inclusive: TIMER_PATH });
  return { ...result, profile };
}
