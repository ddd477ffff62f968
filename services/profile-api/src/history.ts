/**
 * A customer's recent segment changes, newest first, as the segmenter keeps them in the
 * partition's history hash (CRM_HISTORY_LENGTH changes, see packages/store/src/history.ts).
 * An empty list means no change is kept for the customer (none yet, an erasure, or history
 * turned off with CRM_HISTORY_LENGTH=0).
 */
import { type PartitionKeys, recentChanges as readHistory } from '@crm/store';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { RecentChange } from './schemas.ts';

/** Most changes returned per customer. */
export const RECENT_CHANGES = 20;

export async function recentChanges(
  redis: Redis,
  keys: PartitionKeys,
  customerId: string,
  limit: number = RECENT_CHANGES,
): Promise<Array<z.infer<typeof RecentChange>>> {
  const entries = await readHistory(redis, keys, customerId, limit);
  return entries.map((e) => e as z.infer<typeof RecentChange>);
}
