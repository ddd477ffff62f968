/**
 * The TypeScript face of one partition's keys: the batch read (one pipelined round trip),
 * the atomic batch commit (commitBatch.lua), the outbox and the timers.
 */
import type { Redis } from 'ioredis';
import { checkReply } from './errors.ts';
import type { Fence } from './fence.ts';
import type { PartitionKeys } from './keys.ts';
import { type StoredCustomer, parseCustomerRecord } from './record.ts';
import { callScript } from './scripts.ts';

export interface BatchContext {
  fence: Fence;
  customers: Map<string, StoredCustomer>;
  /** The customers' packed recent-change histories (history.ts), when asked for. */
  histories: Map<string, string | null>;
}

/**
 * The fence and the records of `customerIds` (their states and, with `withHistory`, their
 * histories: one field holds both), in one pipelined round trip.
 */
export async function readBatchContext(redis: Redis, keys: PartitionKeys, customerIds: readonly string[], withHistory = false): Promise<BatchContext> {
  const pipeline = redis.pipeline().hgetall(keys.fence);
  if (customerIds.length > 0) pipeline.hmget(keys.state, ...customerIds);
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const fence = (replies[0]?.[1] ?? {}) as Fence;
  const raw = (replies[1]?.[1] ?? []) as Array<string | null>;
  const customers = new Map<string, StoredCustomer>();
  const histories = new Map<string, string | null>();
  customerIds.forEach((id, i) => {
    const { version, state, history } = parseCustomerRecord(raw[i] ?? null);
    customers.set(id, { version, state });
    if (withHistory) histories.set(id, history);
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

/**
 * One customer's new packed history (history.ts prependHistory), or null for none. It is kept
 * in the customer's record, so the customer is one of the commit's `customers`; a customer
 * whose state is deleted loses its history with it.
 */
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
  /** Recent-change histories to replace (history.ts); the other customers keep theirs. */
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
 * The batch's customers as commitBatch.lua reads them, each with its new history (`h`) when the
 * batch has one; without `h` the record keeps its own. Throws for a history of a customer the
 * batch does not write, or one holding the record's delimiter '|' (prependHistory never does).
 */
function customerArgs(batch: BatchCommit): Array<{ id: string; v: number; s: string | null; due: string | null; h?: string | null }> {
  const histories = new Map((batch.history ?? []).map((h) => [h.customerId, h.packed]));
  const customers = batch.customers.map((c) => {
    const due = c.dueAt === null ? null : String(c.dueAt);
    const h = histories.get(c.id);
    histories.delete(c.id);
    if (h?.includes('|')) throw new Error(`commitBatch: the history of ${c.id} holds a '|': not one prependHistory packed`);
    return h === undefined ? { id: c.id, v: c.version, s: c.state, due } : { id: c.id, v: c.version, s: c.state, due, h };
  });
  const [orphan] = histories.keys();
  if (orphan !== undefined) throw new Error(`commitBatch: a history for ${orphan}, whose record the batch does not write`);
  return customers;
}

/**
 * Commits a batch atomically. Throws ScriptRejectedError (STALE_FENCE, FENCE_REGRESSION,
 * STATE_CONFLICT) when the partition moved since it was read; then nothing was written.
 * Throws a plain Error, before any I/O, for a history the batch cannot keep (customerArgs).
 */
export async function commitBatch(redis: Redis, keys: PartitionKeys, batch: BatchCommit): Promise<CommitResult> {
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
  const arg = { fence: batch.fence, customers: customerArgs(batch), members };
  const args: Array<string | Buffer> = [JSON.stringify(arg)];
  for (const r of batch.records) args.push(r.key, r.value);
  const reply = await callScript(redis, 'commitBatch', [keys.fence, keys.state, keys.outbox, keys.timers, keys.counts, ...memberKeys], args, false);
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
