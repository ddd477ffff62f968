/**
 * Redis bytes per customer, two ways: MEMORY USAGE of the partition keys split into state,
 * indexes (timers, segment sets, counts) and the recent-change history hash, and the
 * growth of used_memory over the run divided by the customers (noisy when other clients share
 * the server).
 */
import { partitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import { round } from './procstat.ts';

export interface MemoryResult {
  customers: number;
  /** MEMORY USAGE split, bytes per customer. */
  state: number;
  timers: number;
  segment_sets: number;
  other_partition_keys: number;
  history: number;
  /** Customers with a kept history. */
  histories: number;
  total: number;
  /** Mean length of a packed history (sampled). */
  history_value_chars: number;
  /** Mean length of the stored state string (version prefix included). */
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

/** Mean length of the values of a hash, over its first `limit` fields. */
async function meanValueChars(redis: Redis, key: string, limit: number): Promise<{ chars: number; seen: number }> {
  let cursor = '0';
  let seen = 0;
  let chars = 0;
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 1000);
    cursor = next;
    for (let i = 1; i < flat.length && seen < limit; i += 2, seen++) chars += (flat[i] as string).length;
  } while (cursor !== '0' && seen < limit);
  return { chars, seen };
}

export async function redisBytesPerCustomer(redis: Redis, prefix: string, partitions: number, usedBefore: number): Promise<MemoryResult> {
  let customers = 0;
  let state = 0;
  let timers = 0;
  let sets = 0;
  let other = 0;
  let history = 0;
  let histories = 0;
  const stateChars = { chars: 0, seen: 0 };
  const historyChars = { chars: 0, seen: 0 };
  for (let p = 0; p < partitions; p++) {
    const k = partitionKeys(prefix, p);
    customers += await redis.hlen(k.state);
    state += await usage(redis, k.state);
    timers += await usage(redis, k.timers);
    for (const key of [k.fence, k.outbox, k.counts]) other += await usage(redis, key);
    for (const key of await scanKeys(redis, `${prefix}:{${p}}:seg:*`)) sets += await usage(redis, key);
    history += await usage(redis, k.history);
    histories += await redis.hlen(k.history);
    for (const [key, acc] of [
      [k.state, stateChars],
      [k.history, historyChars],
    ] as const) {
      const { chars, seen } = await meanValueChars(redis, key, 2000);
      acc.chars += chars;
      acc.seen += seen;
    }
  }
  const usedAfter = await usedMemory(redis);
  const per = (x: number) => round(x / Math.max(1, customers));
  return {
    customers,
    state: per(state),
    timers: per(timers),
    segment_sets: per(sets),
    other_partition_keys: per(other),
    history: per(history),
    histories,
    total: per(state + timers + sets + other + history),
    history_value_chars: round(historyChars.chars / Math.max(1, historyChars.seen)),
    state_value_chars: round(stateChars.chars / Math.max(1, stateChars.seen)),
    used_memory_growth: per(usedAfter - usedBefore),
  };
}
