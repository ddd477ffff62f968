/**
 * One collection: which groups, their members, their committed offsets (admin API: the
 * groups are never joined, so this works while their consumers are down), the topics' end
 * offsets, and the timestamps of the oldest unconsumed records, turned into lag rows.
 */
import type { Admin, Kafka } from 'kafkajs';
import { type Logger, pino } from 'pino';
import type { GroupSelector } from './config.ts';
import { type CommittedOffset, type LagRow, type PartitionBounds, computeLagRows, probeTargets } from './lag.ts';
import { OldestRecordProbe, PROBE_GROUP_PREFIX } from './oldest.ts';

export interface GroupLag {
  group: string;
  /** The group coordinator's state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. */
  state: string;
  /** Live members; 0 when every consumer of the group is down. */
  members: number;
  rows: LagRow[];
}

/** Where a part of a collection failed; the rest of the collection stands. */
export interface CollectError {
  stage: 'fetch_offsets' | 'end_offsets' | 'timestamps';
  /** The group or topic concerned. */
  subject: string;
  message: string;
}

export interface LagSnapshot {
  /** The instant (ms since the epoch) the ages in seconds are measured from. */
  at: number;
  groups: GroupLag[];
  /** End offsets of every topic a watched group has committed offsets on. */
  topics: { topic: string; partitions: PartitionBounds[] }[];
  errors: CollectError[];
}

export interface CollectorOptions {
  /** Longest wait for the oldest unconsumed records (ms). */
  probeTimeoutMs?: number;
  log?: Logger;
  /** The clock the ages are measured with (ms since the epoch). */
  now?: () => number;
}

const silent = pino({ level: 'silent' });

/** Collects lag repeatedly over one admin connection, caching record timestamps between collections. */
export class LagCollector {
  private readonly admin: Admin;
  private readonly probe: OldestRecordProbe;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(kafka: Kafka, options: CollectorOptions = {}) {
    this.log = options.log ?? silent;
    this.admin = kafka.admin();
    this.probe = new OldestRecordProbe(kafka, options.probeTimeoutMs ?? 15_000, this.log);
    this.now = options.now ?? Date.now;
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  /** Disconnects, deleting the probe's own group (empty by then) so that none is left on the broker. */
  async disconnect(): Promise<void> {
    if (this.probe.used) await this.admin.deleteGroups([this.probe.groupId]).catch((err: unknown) => this.log.debug({ err }, 'probe group not deleted'));
    await this.admin.disconnect();
  }

  /** The watched groups: the configured list, or every group whose id starts with the prefix. */
  async groups(selector: GroupSelector): Promise<string[]> {
    if ('groups' in selector) return [...selector.groups].sort();
    const { groups } = await this.admin.listGroups();
    return groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(selector.prefix) && !id.startsWith(PROBE_GROUP_PREFIX))
      .sort();
  }

  /**
   * Lag of every watched group. Failures of one group's offsets, one topic's end offsets or
   * the timestamps are reported in `errors` with the rest collected; a broker that cannot list
   * or describe groups fails the whole collection.
   */
  async collect(selector: GroupSelector): Promise<LagSnapshot> {
    const errors: CollectError[] = [];
    const groupIds = await this.groups(selector);
    const described = groupIds.length === 0 ? [] : (await this.admin.describeGroups(groupIds)).groups;
    const committed: CommittedOffset[] = [];
    await Promise.all(
      groupIds.map(async (group) => {
        try {
          // No topics: every topic the group has committed offsets on (kafkajs docs, "Fetch consumer group offsets").
          for (const { topic, partitions } of await this.admin.fetchOffsets({ groupId: group })) {
            for (const p of partitions) {
              const offset = Number(p.offset);
              if (offset >= 0) committed.push({ group, topic, partition: p.partition, offset });
            }
          }
        } catch (err) {
          errors.push({ stage: 'fetch_offsets', subject: group, message: (err as Error).message });
        }
      }),
    );
    const ends = new Map<string, PartitionBounds[]>();
    await Promise.all(
      [...new Set(committed.map((c) => c.topic))].map(async (topic) => {
        try {
          const offsets = await this.admin.fetchTopicOffsets(topic);
          ends.set(
            topic,
            offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })).sort((a, b) => a.partition - b.partition),
          );
        } catch (err) {
          errors.push({ stage: 'end_offsets', subject: topic, message: (err as Error).message });
        }
      }),
    );
    let timestamps = new Map<string, number>();
    try {
      const probed = await this.probe.timestamps(probeTargets(committed, ends));
      timestamps = probed.timestamps;
      for (const t of probed.missing) {
        errors.push({ stage: 'timestamps', subject: t.topic, message: `partition ${t.partition}: record at offset ${t.offset} not read in time` });
      }
    } catch (err) {
      errors.push({ stage: 'timestamps', subject: '*', message: (err as Error).message });
      this.log.warn({ err }, 'reading the oldest unconsumed records failed: lag in seconds unknown this round');
    }
    const at = this.now();
    const rows = computeLagRows(committed, ends, timestamps, at);
    return {
      at,
      groups: groupIds.map((group) => {
        const d = described.find((g) => g.groupId === group);
        return { group, state: d?.state ?? 'Unknown', members: d?.members.length ?? 0, rows: rows.filter((r) => r.group === group) };
      }),
      topics: [...ends].map(([topic, partitions]) => ({ topic, partitions })).sort((a, b) => a.topic.localeCompare(b.topic)),
      errors,
    };
  }
}

/**
 * One-shot lag of `groups` (a list of group ids, or every group whose id starts with a prefix):
 * connects an admin client, collects, disconnects. For the CLI and tests; the service keeps a
 * LagCollector instead.
 */
export async function collectLag(kafka: Kafka, groups: GroupSelector | readonly string[], options: CollectorOptions = {}): Promise<LagSnapshot> {
  const collector = new LagCollector(kafka, options);
  await collector.connect();
  try {
    return await collector.collect(Array.isArray(groups) ? { groups: [...groups] } : (groups as GroupSelector));
  } finally {
    await collector.disconnect();
  }
}
