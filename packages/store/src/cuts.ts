/**
 * The RFM score cuts in force in quantile scoring mode: one global string key
 * (`globalKeys(prefix).rfmCuts`), JSON `{cuts, computedAt}`, written by the segmenter when a
 * rescore moves them. Readers that show scores read them here, so their scores are the
 * index's.
 */
import { type RfmCuts, RfmCutsSchema } from '@crm/domain';
import type { Redis } from 'ioredis';
import { globalKeys } from './keys.ts';

export interface StoredCuts {
  cuts: RfmCuts;
  /** ISO-8601 instant the segmenter computed them. */
  computedAt: string;
}

/** The stored cuts, or null when none are stored (fixed scoring, or no rescore yet). Throws naming the key when they do not parse. */
export async function readRfmCuts(redis: Redis, prefix: string): Promise<StoredCuts | null> {
  const key = globalKeys(prefix).rfmCuts;
  const raw = await redis.get(key);
  if (raw === null) return null;
  let json: { cuts?: unknown; computedAt?: unknown };
  try {
    json = JSON.parse(raw) as typeof json;
  } catch {
    throw new Error(`${key}: not JSON: ${raw.slice(0, 40)}`);
  }
  const cuts = RfmCutsSchema.safeParse(json?.cuts);
  if (!cuts.success) throw new Error(`${key}: not RFM cuts: ${cuts.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { cuts: cuts.data, computedAt: typeof json.computedAt === 'string' ? json.computedAt : '' };
}

/** Stores the cuts in force (what the segmenter writes after a rescore). */
export async function writeRfmCuts(redis: Redis, prefix: string, stored: StoredCuts): Promise<void> {
  await redis.set(globalKeys(prefix).rfmCuts, JSON.stringify(stored));
}
