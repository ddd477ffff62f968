/**
 * The TypeScript face of one partition's keys: the batch read (one pipelined round trip),
 * the atomic batch commit (commitBatch.lua), the outbox and the timers.
 */
import type { Redis } from 'ioredis';
import { checkReply } from './errors.ts';
import type { Fence } from './fence.ts';
import type { PartitionKeys } from './keys.ts';
import { callScript } from './scripts.ts';

export interface StoredCustomer {
  /** 0 when the customer has no state yet. */
  version: number;
  /** The encoded state, or null. */
  state: string | null;
}

export interface BatchContext {
  fence: Fence;
  customers: Map<string, StoredCustomer>;
}

/**
 * A customer's record as commitBatch.lua writes it, `<version>|<encoded state>` (the version is
 * the compare-and-set guard); null (no record) is version 0 and no state.
 */
export function parseStateRecord(raw: string | null): StoredCustomer {
  if (raw === null) return { version: 0, state: null };
  const bar = raw.indexOf('|');
  const version = Number(raw.slice(0, bar));
  if (bar < 1 || !Number.isInteger(version)) throw new Error(`corrupt customer state record (no version prefix): ${raw.slice(0, 40)}`);
  return { version, state: raw.slice(bar + 1) };
}

/** The fence and the states of `customerIds`, in one pipelined round trip. */
export async function readBatchContext(redis: Redis, keys: PartitionKeys, customerIds: readonly string[]): Promise<BatchContext> {
  const pipeline = redis.pipeline().hgetall(keys.fence);
  if (customerIds.length > 0) pipeline.hmget(keys.state, ...customerIds);
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const fence = (replies[0]?.[1] ?? {}) as Fence;
  const raw = (replies[1]?.[1] ?? []) as Array<string | null>;
  const customers = new Map<string, StoredCustomer>();
  customerIds.forEach((id, i) => {
    customers.set(id, parseStateRecord(raw[i] ?? null));
  });
  return { fence, customers };
}

/** A move of one customer between the values of one indexed set family (e.g. stage: new -> repeat). */
export interface IndexMove {
  customerId: string;
  /** The family, e.g. 'rfm_segment' or 'custom'. */
  dimension: string;
  from: string | null;
  to: string | null;
}

export interface CustomerWrite {
  id: string;
  /** The version read (0 = absent): the compare-and-set guard. */
  version: number;
  /** The new encoded state, or null to delete it. */
  state: string | null;
  /** Next instant (ms) the customer must be evaluated, or null for none. */
  dueAt: number | null;
}

/** One customer's history update: cleared first when `clear` (erasure), then `entries` pushed, oldest first. */
export interface HistoryWrite {
  customerId: string;
  clear: boolean;
  entries: string[];
}

export interface BatchCommit {
  fence: { expected: Record<string, string | null>; next: Fence };
  customers: CustomerWrite[];
  /** Serialized segment changes, appended to the outbox in this order. */
  changes: string[];
  moves: IndexMove[];
  /** Per-customer recent-change lists, each trimmed to `length` (history.ts). */
  history?: { length: number; writes: HistoryWrite[] };
}

export const countField = (dimension: string, value: string): string => `${dimension}:${value}`;

/**
 * Commits a batch atomically. Throws ScriptRejectedError (STALE_FENCE, FENCE_REGRESSION,
 * STATE_CONFLICT) when the partition moved since it was read; then nothing was written.
 */
export async function commitBatch(redis: Redis, keys: PartitionKeys, batch: BatchCommit): Promise<number> {
  const memberKeys: string[] = [];
  const index = new Map<string, number>();
  const indexOf = (key: string): number => {
    let i = index.get(key);
    if (i === undefined) {
      memberKeys.push(key);
      i = 5 + memberKeys.length; // KEYS[6..]
      index.set(key, i);
    }
    return i;
  };
  const keyIndex = (dimension: string, value: string): number => indexOf(keys.members(dimension, value));
  const members: Array<[number, 'add' | 'rem', string, string]> = [];
  for (const m of batch.moves) {
    if (m.from !== null) members.push([keyIndex(m.dimension, m.from), 'rem', m.customerId, countField(m.dimension, m.from)]);
    if (m.to !== null) members.push([keyIndex(m.dimension, m.to), 'add', m.customerId, countField(m.dimension, m.to)]);
  }
  const arg = {
    fence: batch.fence,
    customers: batch.customers.map((c) => ({ id: c.id, v: c.version, s: c.state, due: c.dueAt === null ? null : String(c.dueAt) })),
    changes: batch.changes,
    members,
    history:
      batch.history === undefined || batch.history.length === 0
        ? null
        : {
            length: batch.history.length,
            lists: batch.history.writes
              .filter((h) => h.clear || h.entries.length > 0)
              .map((h) => [indexOf(keys.history(h.customerId)), h.clear ? 1 : 0, ...h.entries]),
          },
  };
  const reply = await callScript(
    redis,
    'commitBatch',
    [keys.fence, keys.state, keys.outbox, keys.timers, keys.counts, ...memberKeys],
    [JSON.stringify(arg)],
    false,
  );
  return checkReply('commitBatch', reply, keys.state) as number;
}

export interface OutboxEntry {
  id: string;
  change: string;
}

/** The oldest `count` entries of the outbox. */
export async function readOutbox(redis: Redis, keys: PartitionKeys, count: number): Promise<OutboxEntry[]> {
  const rows = await redis.xrange(keys.outbox, '-', '+', 'COUNT', count);
  return rows.map(([id, fields]) => ({ id, change: fields[fields.indexOf('c') + 1] ?? '' }));
}

/** Removes relayed entries. */
export async function ackOutbox(redis: Redis, keys: PartitionKeys, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await redis.xdel(keys.outbox, ...ids);
}

export async function outboxLength(redis: Redis, keys: PartitionKeys): Promise<number> {
  return redis.xlen(keys.outbox);
}

/** Customers due at or before `now` (ms), earliest first. */
export async function dueCustomers(redis: Redis, keys: PartitionKeys, now: number, limit: number): Promise<string[]> {
  return redis.zrangebyscore(keys.timers, '-inf', now, 'LIMIT', 0, limit);
}

/** Segment counts of the partition: `<dimension>:<value>` -> members. */
export async function segmentCounts(redis: Redis, keys: PartitionKeys): Promise<Record<string, number>> {
  const raw = await redis.hgetall(keys.counts);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}
