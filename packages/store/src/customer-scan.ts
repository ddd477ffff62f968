/**
 * One step of a walk over a partition's customers: an HSCAN reply of its state hash, or, for
 * one segment's members, an SSCAN reply of the segment's set followed by an HMGET of their
 * records. The CLI's export and the profile API's `GET /customers` page with it.
 */
import type { Dimension } from '@crm/contracts';
import type { Redis } from 'ioredis';
import type { PartitionKeys } from './keys.ts';

/** One segment value: the members of `<prefix>:{p}:seg:<dimension>:<value>`. */
export interface SegmentFilter {
  dimension: Dimension;
  value: string;
}

/**
 * The customers of one scan reply from `cursor` ('0' starts), as [customer id, stored record]
 * pairs, and the cursor to go on from ('0': done). With `segment`, a member whose record is gone
 * (not expected: one script writes both) is skipped; the caller re-checks the membership in the
 * record, which may have moved between the two reads.
 */
export async function scanCustomerRecords(
  redis: Redis,
  keys: PartitionKeys,
  segment: SegmentFilter | null,
  cursor: string,
  count: number,
): Promise<[next: string, records: Array<[id: string, raw: string]>]> {
  if (segment === null) {
    const [next, flat] = await redis.hscan(keys.state, cursor, 'COUNT', count);
    const records: Array<[string, string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) records.push([flat[i] as string, flat[i + 1] as string]);
    return [next, records];
  }
  const [next, ids] = await redis.sscan(keys.members(segment.dimension, segment.value), cursor, 'COUNT', count);
  if (ids.length === 0) return [next, []];
  const raws = await redis.hmget(keys.state, ...ids);
  return [next, ids.flatMap((id, i): Array<[string, string]> => (typeof raws[i] === 'string' ? [[id, raws[i]]] : []))];
}
