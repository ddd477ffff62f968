/** The offset fence of one partition: where each input topic's next record to apply is. */
import type { Redis } from 'ioredis';
import { checkReply } from './errors.ts';
import type { PartitionKeys } from './keys.ts';
import { callScript } from './scripts.ts';

/** topic -> next offset to apply, as a decimal string; absent topics have never been applied. */
export type Fence = Record<string, string>;

export async function readFence(redis: Redis, keys: PartitionKeys): Promise<Fence> {
  return redis.hgetall(keys.fence);
}

/**
 * Advances the fence from `expected` (what the caller read; null for a topic never written)
 * to `next`. Throws ScriptRejectedError STALE_FENCE when someone moved it in between.
 */
export async function advanceFence(redis: Redis, keys: PartitionKeys, expected: Record<string, string | null>, next: Fence): Promise<void> {
  const reply = await callScript(redis, 'advanceFence', [keys.fence], [JSON.stringify({ expected, next })]);
  checkReply('advanceFence', reply, keys.fence);
}
