/**
 * The deployment's stream clock (CRM_CLOCK=stream, and every backfill): the latest event time
 * applied over all partitions, one global string key (`globalKeys(prefix).streamClock`,
 * decimal epoch ms). Segmenter members advance it (never back); the profile API reads at it.
 */
import type { Redis } from 'ioredis';
import { checkReply } from './errors.ts';
import { globalKeys } from './keys.ts';
import { callScript } from './scripts.ts';

/**
 * Advances the clock to `candidate` (epoch ms) unless it is already later. Returns the clock
 * after the call. Throws RangeError for a candidate that is not a non-negative safe integer.
 */
export async function advanceStreamClock(redis: Redis, prefix: string, candidate: number): Promise<number> {
  if (!Number.isSafeInteger(candidate) || candidate < 0) throw new RangeError(`stream clock: not epoch milliseconds: ${candidate}`);
  const key = globalKeys(prefix).streamClock;
  const reply = checkReply('advanceStreamClock', await callScript(redis, 'advanceStreamClock', [key], [String(candidate)]), key);
  return Number(reply);
}

/** The clock (epoch ms), or null when none is stored. Throws naming the key when the value is not epoch milliseconds. */
export async function readStreamClock(redis: Redis, prefix: string): Promise<number | null> {
  const key = globalKeys(prefix).streamClock;
  const raw = await redis.get(key);
  if (raw === null) return null;
  if (!/^[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new Error(`${key}: not epoch milliseconds: ${raw.slice(0, 40)}`);
  return Number(raw);
}
