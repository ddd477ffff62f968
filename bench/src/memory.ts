/**
 * Redis bytes per customer, two ways: MEMORY USAGE of the partition keys split into state,
 * indexes (timers, segment sets, counts) and the recent-change histories, and the growth of
 * used_memory over the run divided by the customers (noisy when other clients share the
 * server).
 *
 * A customer's history lives in its state record (`<version>|<history>|<state>`,
 * packages/store/src/record.ts), so MEMORY USAGE cannot tell the two apart: the history's
 * share is what its characters add to each record's allocation (jemalloc size classes), and
 * the state's is the rest of the hash. A run with CRM_HISTORY_LENGTH=0 measures it directly.
 */
import { parseCustomerRecord, partitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import { round } from './procstat.ts';

export interface MemoryResult {
  customers: number;
  /** MEMORY USAGE split, bytes per customer (state: the state hash less the histories' share). */
  state: number;
  timers: number;
  segment_sets: number;
  other_partition_keys: number;
  /** What the histories add to the state records' allocations. */
  history: number;
  /** Customers with a kept history. */
  histories: number;
  total: number;
  /** Mean length of a packed history, over the customers that have one. */
  history_value_chars: number;
  /** Mean length of a record without its history (`<version>||<state>`). */
  state_value_chars: number;
  /** (used_memory after - before) / customers. */
  used_memory_growth: number;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
}

async function usage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 10_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** jemalloc's size class of an allocation of `n` bytes: 8, then steps of 16 to 128, then four per doubling. */
function allocated(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const step = 2 ** (Math.ceil(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

/** Bytes Redis allocates for a hash value of `len` bytes: an sds (header by length, then the bytes and a NUL). */
const sdsBytes = (len: number): number => allocated((len < 32 ? 1 : len < 256 ? 3 : 5) + len + 1);

interface Records {
  /** Characters of the records without their histories, and of the histories. */
  stateChars: number;
  historyChars: number;
  histories: number;
  /** What the histories add to the records' allocations. */
  historyBytes: number;
}

/** Every record of a state hash, split into state and history. */
async function scanRecords(redis: Redis, key: string, into: Records): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscanBuffer(key, cursor, 'COUNT', 1000);
    cursor = next.toString();
    for (let i = 1; i < flat.length; i += 2) {
      const raw = flat[i] as Buffer;
      const history = parseCustomerRecord(raw.toString('utf8')).history;
      const h = history === null ? 0 : Buffer.byteLength(history);
      into.stateChars += raw.length - h;
      into.historyChars += h;
      if (h > 0) into.histories++;
      into.historyBytes += sdsBytes(raw.length) - sdsBytes(raw.length - h);
    }
  } while (cursor !== '0');
}

export async function redisBytesPerCustomer(redis: Redis, prefix: string, partitions: number, usedBefore: number): Promise<MemoryResult> {
  let customers = 0;
  let state = 0;
  let timers = 0;
  let sets = 0;
  let other = 0;
  const records: Records = { stateChars: 0, historyChars: 0, histories: 0, historyBytes: 0 };
  for (let p = 0; p < partitions; p++) {
    const k = partitionKeys(prefix, p);
    customers += await redis.hlen(k.state);
    state += await usage(redis, k.state);
    timers += await usage(redis, k.timers);
    for (const key of [k.fence, k.outbox, k.counts]) other += await usage(redis, key);
    for (const key of await scanKeys(redis, `${prefix}:{${p}}:seg:*`)) sets += await usage(redis, key);
    await scanRecords(redis, k.state, records);
  }
  const usedAfter = await usedMemory(redis);
  const per = (x: number) => round(x / Math.max(1, customers));
  return {
    customers,
    state: per(state - records.historyBytes),
    timers: per(timers),
    segment_sets: per(sets),
    other_partition_keys: per(other),
    history: per(records.historyBytes),
    histories: records.histories,
    total: per(state + timers + sets + other),
    history_value_chars: round(records.historyChars / Math.max(1, records.histories)),
    state_value_chars: per(records.stateChars),
    used_memory_growth: per(usedAfter - usedBefore),
  };
}
