/**
 * A customer's recent segment changes, newest first, as the segmenter keeps them in the
 * customer's record (CRM_HISTORY_LENGTH changes, see packages/store/src/history.ts). An empty
 * list means no change is kept for the customer (none yet, an erasure, or history turned off
 * with CRM_HISTORY_LENGTH=0).
 */
import { unpackHistory } from '@crm/store';
import type { z } from 'zod';
import type { RecentChange } from './schemas.ts';

/** Most changes returned per customer. */
const RECENT_CHANGES = 20;

/** The changes of `packed` (readStoredCustomer's history) under the deployment's topic suffix, at most RECENT_CHANGES. */
export function recentChanges(customerId: string, packed: string | null, topicSuffix: string): Array<z.infer<typeof RecentChange>> {
  return unpackHistory(customerId, packed, topicSuffix).slice(0, RECENT_CHANGES) as Array<z.infer<typeof RecentChange>>;
}
