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
  /** The customers' packed recent-change histories (history.ts), when asked for. */
  histories: Map<string, string | null>;
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

/** The fence, the states of `customerIds` and (`withHistory`) their histories, in one pipelined round trip. */
export async function readBatchContext(redis: Redis, keys: PartitionKeys, customerIds: readonly string[], withHistory = false): Promise<BatchContext> {
  const pipeline = redis.pipeline().hgetall(keys.fence);
  const ask = customerIds.length > 0;
  if (ask) pipeline.hmget(keys.state, ...customerIds);
  if (ask && withHistory) pipeline.hmget(keys.history, ...customerIds);
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const fence = (replies[0]?.[1] ?? {}) as Fence;
  const raw = (replies[1]?.[1] ?? []) as Array<string | null>;
  const packed = (replies[2]?.[1] ?? []) as Array<string | null>;
  const customers = new Map<string, StoredCustomer>();
  const histories = new Map<string, string | null>();
  customerIds.forEach((id, i) => {
    customers.set(id, parseStateRecord(raw[i] ?? null));
    if (withHistory) histories.set(id, packed[i] ?? null);
  });
  return { fence, customers, histories };
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

/** One customer's new packed history (history.ts prependHistory), or null to delete it. */
export interface HistoryWrite {
  customerId: string;
  packed: string | null;
}

/** One record for the changes topic, as the outbox keeps it and the relay produces it. */
export interface OutboxRecord {
  key: string;
  value: Buffer;
}

export interface BatchCommit {
  fence: { expected: Record<string, string | null>; next: Fence };
  customers: CustomerWrite[];
  /** The encoded segment changes, appended to the outbox in this order. */
  records: OutboxRecord[];
  moves: IndexMove[];
  /** Recent-change histories to replace (history.ts). */
  history?: HistoryWrite[];
}

export interface CommitResult {
  /** Records appended to the outbox. */
  appended: number;
  /** Outbox entries that were waiting before this commit (0: the relay is up to date). */
  backlog: number;
  /** Stream id of the last record appended, or null when none was. */
  lastId: string | null;
}

export const countField = (dimension: string, value: string): string => `${dimension}:${value}`;

/**
 * Commits a batch atomically. Throws ScriptRejectedError (STALE_FENCE, FENCE_REGRESSION,
 * STATE_CONFLICT) when the partition moved since it was read; then nothing was written.
 */
export async function commitBatch(redis: Redis, keys: PartitionKeys, batch: BatchCommit): Promise<CommitResult> {
  const memberKeys: string[] = [];
  const index = new Map<string, number>();
  const indexOf = (key: string): number => {
    let i = index.get(key);
    if (i === undefined) {
      memberKeys.push(key);
      i = 6 + memberKeys.length; // KEYS[7..]
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
    members,
    history: (batch.history ?? []).map((h) => [h.customerId, h.packed]),
  };
  const args: Array<string | Buffer> = [JSON.stringify(arg)];
  for (const r of batch.records) args.push(r.key, r.value);
  const reply = await callScript(
    redis,
    'commitBatch',
    [keys.fence, keys.state, keys.outbox, keys.timers, keys.counts, keys.history, ...memberKeys],
    args,
    false,
  );
  const [appended, backlog, lastId] = checkReply('commitBatch', reply, keys.state) as [number, number, string | null];
  return { appended, backlog, lastId: lastId ?? null };
}

/** One outbox entry: the records of (part of) one commit, in emission order. */
export interface OutboxEntry {
  id: string;
  records: OutboxRecord[];
}

/** The oldest `count` entries of the outbox. */
export async function readOutbox(redis: Redis, keys: PartitionKeys, count: number): Promise<OutboxEntry[]> {
  const rows = await redis.xrangeBuffer(keys.outbox, '-', '+', 'COUNT', count);
  return rows.map(([id, fields]) => {
    const records: OutboxRecord[] = [];
    for (let i = 0; i + 3 < fields.length; i += 4) {
      if (fields[i]?.toString() !== 'k' || fields[i + 2]?.toString() !== 'v')
        throw new Error(`outbox entry ${id.toString()} of ${keys.outbox} is not k/v pairs`);
      records.push({ key: (fields[i + 1] as Buffer).toString('utf8'), value: fields[i + 3] as Buffer });
    }
    return { id: id.toString(), records };
  });
}

/** Removes every outbox entry up to and including `lastId` (they were relayed). */
export async function ackOutbox(redis: Redis, keys: PartitionKeys, lastId: string): Promise<void> {
  await redis.xtrim(keys.outbox, 'MINID', nextStreamId(lastId));
}

/** The smallest stream id after `id` ("<ms>-<seq>"). */
export function nextStreamId(id: string): string {
  const dash = id.indexOf('-');
  return `${id.slice(0, dash)}-${BigInt(id.slice(dash + 1)) + 1n}`;
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
