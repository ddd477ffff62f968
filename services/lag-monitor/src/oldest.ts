/**
 * Timestamps of the oldest unconsumed records, read with a short-lived probe consumer of its
 * own group: it seeks to the committed offsets, takes one record per partition and leaves.
 * The monitored groups are never joined, so their members and offsets are untouched.
 *
 * A record's timestamp never changes, so timestamps are cached by (topic, partition, offset):
 * while a group is stalled (its consumers down) every collection after the first is free.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { type ProbeTarget, probeKey } from './lag.ts';

/** Prefix of the probe consumers' group ids; never a group to watch. */
export const PROBE_GROUP_PREFIX = 'lag-monitor-probe-';

export interface ProbeResult {
  /** probeKey(topic, partition, offset) -> record timestamp (ms since the epoch). */
  timestamps: Map<string, number>;
  /** Targets whose record did not arrive within the timeout. */
  missing: ProbeTarget[];
}

export class OldestRecordProbe {
  private readonly kafka: Kafka;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  /** One group id per probe instance: successive probes reuse it instead of leaving new groups behind. */
  readonly groupId = `${PROBE_GROUP_PREFIX}${randomBytes(6).toString('hex')}`;
  private cache = new Map<string, number>();
  /** Whether a probe consumer ever joined (and so left a group behind). */
  used = false;

  constructor(kafka: Kafka, timeoutMs: number, log: Logger) {
    this.kafka = kafka;
    this.timeoutMs = timeoutMs;
    this.log = log;
  }

  /** The timestamps of `targets`' records, from the cache or read from Kafka. */
  async timestamps(targets: readonly ProbeTarget[]): Promise<ProbeResult> {
    const timestamps = new Map<string, number>();
    const toRead: ProbeTarget[] = [];
    for (const t of targets) {
      const cached = this.cache.get(probeKey(t.topic, t.partition, t.offset));
      if (cached === undefined) toRead.push(t);
      else timestamps.set(probeKey(t.topic, t.partition, t.offset), cached);
    }
    const missing = toRead.length === 0 ? [] : await this.read(toRead, timestamps);
    // Keep only what this round asked for: the cache stays as small as the set of lagging partitions.
    this.cache = new Map(timestamps);
    return { timestamps, missing };
  }

  /** Reads the records of `targets` into `into`; returns the targets that did not arrive. */
  private async read(targets: readonly ProbeTarget[], into: Map<string, number>): Promise<ProbeTarget[]> {
    // Per topic-partition, the wanted offsets in ascending order: one forward scan from the lowest serves them all.
    const byPartition = new Map<string, ProbeTarget[]>();
    for (const t of targets) {
      const tp = `${t.topic}\u0000${t.partition}`;
      byPartition.set(tp, [...(byPartition.get(tp) ?? []), t]);
    }
    for (const list of byPartition.values()) list.sort((a, b) => a.offset - b.offset);

    this.used = true;
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false, retry: { retries: 2 } });
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    let open = byPartition.size;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...new Set(targets.map((t) => t.topic))], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch }) => {
          const pending = byPartition.get(`${batch.topic}\u0000${batch.partition}`);
          if (pending === undefined || pending.length === 0) return;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            // Until the seek applies, the consumer may read from the log end: those records are newer than every target.
            if (offset < (pending[0] as ProbeTarget).offset || offset >= (pending[0] as ProbeTarget).end) continue;
            // The first record at or after a target offset is the oldest unconsumed one (compaction may leave gaps).
            while (pending.length > 0 && (pending[0] as ProbeTarget).offset <= offset) {
              const t = pending.shift() as ProbeTarget;
              into.set(probeKey(t.topic, t.partition, t.offset), Number(m.timestamp));
            }
            if (pending.length === 0) break;
          }
          if (pending.length === 0) {
            consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
            open -= 1;
            if (open === 0) resolveDone();
          }
        },
      });
      for (const list of byPartition.values()) {
        const first = list[0] as ProbeTarget;
        consumer.seek({ topic: first.topic, partition: first.partition, offset: String(first.offset) });
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeoutMs);
      });
      await Promise.race([done, timedOut]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    const missing = [...byPartition.values()].flat();
    if (missing.length > 0) {
      this.log.warn(
        { missing: missing.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.offset })), timeoutMs: this.timeoutMs },
        'oldest unconsumed records not read in time: their lag in seconds is unknown this round',
      );
    }
    return missing;
  }
}
