/**
 * A customer's recent segment changes, kept by commitBatch.lua in a bounded list per customer
 * (most recently committed first) for the read API. Entries are positional JSON arrays: about half the bytes of
 * the change's CloudEvent, which matters at one list per customer.
 */
import type { Redis } from 'ioredis';
import type { PartitionKeys } from './keys.ts';

export interface HistoryCause {
  kind: 'event' | 'timer' | 'rescore';
  topic: string | null;
  partition: number | null;
  offset: string | null;
  eventId: string | null;
  dueAt: string | null;
}

export interface HistoryEntry {
  /** The change's deterministic id (the CloudEvent id on the changes topic). */
  id: string;
  time: string;
  dimension: string;
  segment: string | null;
  from: string | null;
  to: string | null;
  reason: string;
  cause: HistoryCause;
}

type Packed = [
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
  string,
  [HistoryCause['kind'], string | null, number | null, string | null, string | null, string | null],
];

export function encodeHistoryEntry(e: HistoryEntry): string {
  const c = e.cause;
  const packed: Packed = [e.id, e.time, e.dimension, e.segment, e.from, e.to, e.reason, [c.kind, c.topic, c.partition, c.offset, c.eventId, c.dueAt]];
  return JSON.stringify(packed);
}

export function decodeHistoryEntry(s: string): HistoryEntry {
  const [id, time, dimension, segment, from, to, reason, [kind, topic, partition, offset, eventId, dueAt]] = JSON.parse(s) as Packed;
  return { id, time, dimension, segment, from, to, reason, cause: { kind, topic, partition, offset, eventId, dueAt } };
}

/** The customer's latest changes, most recently committed first. */
export async function recentChanges(redis: Redis, keys: PartitionKeys, customerId: string, limit: number): Promise<HistoryEntry[]> {
  const raw = await redis.lrange(keys.history(customerId), 0, limit - 1);
  return raw.map(decodeHistoryEntry);
}
