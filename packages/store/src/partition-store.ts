/**
 * The TypeScript face of one partition's keys: the batch read (one round trip),
 * the atomic batch commit (commitBatch.lua), the outbox and the timers.
 */
import type { Redis } from 'ioredis';
import { checkReply } from './errors.ts';
import type { Fence } from './fence.ts';
import { type IndexMove, netIndexMoves } from './index-moves.ts';
import { type OutboxRecord, entryRecords, packRecords } from './outbox-entry.ts';
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
 * histories: one field holds both), in one round trip: the two commands are sent together. On a
 * client with `enableAutoPipelining` (the segmenter's) they share one socket write with every
 * other command issued in the same tick (the other partitions' reads, commits and trims); an
 * explicit pipeline would bypass that and take a write of its own.
 */
export async function readBatchContext(redis: Redis, keys: PartitionKeys, customerIds: readonly string[], withHistory = false): Promise<BatchContext> {
  const [fence, raw] = await Promise.all([
    redis.hgetall(keys.fence) as Promise<Fence>,
    customerIds.length > 0 ? redis.hmget(keys.state, ...customerIds) : Promise.resolve([]),
  ]);
  const customers = new Map<string, StoredCustomer>();
  const histories = new Map<string, string | null>();
  customerIds.forEach((id, i) => {
    const { version, state, history } = parseCustomerRecord(raw[i] ?? null);
    customers.set(id, { version, state });
    if (withHistory) histories.set(id, history);
  });
  return { fence, customers, histories };
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

/** Records per outbox entry: XADD's cost is per entry; the relay reads entries whole. */
const RECORDS_PER_ENTRY = 1000;

/**
 * The arguments of commitBatch.lua (its header documents the layout): section sizes, then the
 * fence, the customers column by column, the timers, the netted member moves and the packed
 * outbox entries, flat, so the script decodes nothing. `memberKey` names a member set's key,
 * which goes to KEYS[6..] in the order of the member groups. Throws, before any I/O, for a
 * batch the script cannot take: a customer written twice, a history of a customer the batch
 * does not write or one holding the record's delimiter '|' (prependHistory never does).
 */
function commitArgs(batch: BatchCommit, memberKey: (dimension: string, value: string) => string): { memberKeys: string[]; args: Array<string | Buffer> } {
  const { fence, customers, records } = batch;
  const histories = new Map((batch.history ?? []).map((h) => [h.customerId, h.packed]));
  const expected = Object.entries(fence.expected);
  const next = Object.entries(fence.next);
  const n = customers.length;
  const ids = new Array<string>(n);
  const versions = new Array<string>(n);
  const values = new Array<string>(n);
  const due: string[] = [];
  const undue: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = customers[i] as CustomerWrite;
    if (seen.has(c.id)) throw new Error(`commitBatch: customer ${c.id} is written twice in one batch`);
    seen.add(c.id);
    const h = histories.get(c.id);
    if (h?.includes('|')) throw new Error(`commitBatch: the history of ${c.id} holds a '|': not one prependHistory packed`);
    histories.delete(c.id);
    ids[i] = c.id;
    versions[i] = String(c.version);
    // The record (record.ts) whole, or only '|' and the state when it keeps its stored history.
    if (c.state === null) values[i] = '';
    else if (h === undefined) values[i] = `|${c.state}`;
    else values[i] = `${c.version + 1}|${h ?? ''}|${c.state}`;
    if (c.dueAt === null) undue.push(c.id);
    else due.push(String(c.dueAt), c.id);
  }
  const [orphan] = histories.keys();
  if (orphan !== undefined) throw new Error(`commitBatch: a history for ${orphan}, whose record the batch does not write`);
  const groups = netIndexMoves(batch.moves);
  const args: Array<string | Buffer> = [
    String(expected.length),
    String(next.length),
    String(n),
    String(due.length / 2),
    String(undue.length),
    String(groups.length),
    String(Math.ceil(records.length / RECORDS_PER_ENTRY)),
  ];
  for (const [topic, offset] of expected) args.push(topic, offset ?? '');
  for (const [topic, offset] of next) args.push(topic, offset);
  for (const column of [ids, versions, values, due, undue]) for (const a of column) args.push(a);
  const memberKeys: string[] = [];
  for (const g of groups) {
    memberKeys.push(memberKey(g.dimension, g.value));
    args.push(countField(g.dimension, g.value), String(g.add.length), String(g.remove.length));
    for (const id of g.add) args.push(id);
    for (const id of g.remove) args.push(id);
  }
  for (let i = 0; i < records.length; i += RECORDS_PER_ENTRY) args.push(packRecords(records.slice(i, i + RECORDS_PER_ENTRY)));
  return { memberKeys, args };
}

/**
 * Commits a batch atomically. Throws ScriptRejectedError (STALE_FENCE, FENCE_REGRESSION,
 * STATE_CONFLICT) when the partition moved since it was read; then nothing was written.
 * Throws a plain Error, before any I/O, for a batch the script cannot take (commitArgs).
 */
export async function commitBatch(redis: Redis, keys: PartitionKeys, batch: BatchCommit): Promise<CommitResult> {
  const { memberKeys, args } = commitArgs(batch, keys.members);
  const reply = await callScript(redis, 'commitBatch', [keys.fence, keys.state, keys.outbox, keys.timers, keys.counts, ...memberKeys], args, false);
  const [backlog, lastId] = checkReply('commitBatch', reply, keys.state) as [number, string | null];
  return { appended: batch.records.length, backlog, lastId: lastId ?? null };
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
    const entryId = id.toString();
    return { id: entryId, records: entryRecords(`${entryId} of ${keys.outbox}`, fields as Buffer[]) };
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
