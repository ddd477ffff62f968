/**
 * A customer's recent segment changes. The store keeps none per customer yet: the partition
 * outbox holds changes only until they are relayed, and crm.segment-changes.v1 is not
 * indexed by customer. Once commitBatch.lua also pushes each change onto a bounded
 * per-customer list, this function reads it (LRANGE 0 limit-1) and the API serves it; until
 * then it answers null ("no history kept"), never a misleading empty list.
 */
import type { PartitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import type { RecentChange } from './schemas.ts';
import type { z } from 'zod';

/** Most changes returned per customer. */
export const RECENT_CHANGES = 20;

export async function recentChanges(
  _redis: Redis,
  _keys: PartitionKeys,
  _customerId: string,
  _limit: number = RECENT_CHANGES,
): Promise<Array<z.infer<typeof RecentChange>> | null> {
  return null;
}
