/**
 * The API's reads of the segmenter's Redis keys (layout: docs/architecture.md). Read-only:
 * nothing here writes. Each function is one round trip per call (pipelined across partitions
 * where it touches several).
 */
import { DIMENSIONS, type Dimension } from '@crm/contracts';
import { type CustomerState, type RfmCuts, decodeState } from '@crm/domain';
import { globalKeys, parseCustomerRecord, partitionFor, partitionKeys } from '@crm/store';
import type { Redis } from 'ioredis';
import { type MemberCursor, START } from './cursor.ts';

export interface StoredCustomer {
  partition: number;
  version: number;
  state: CustomerState;
  /** The quantile RFM cuts in force (quantile scoring mode), or null for the configured ones. */
  cuts: RfmCuts | null;
  /** The customer's packed recent changes (kept in the same record as the state), or null. */
  history: string | null;
}

/** Throws when a reply of a pipeline failed. */
function replies(raw: Array<[Error | null, unknown]> | null): unknown[] {
  return (raw ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/**
 * The customer's stored state and recent changes (one record), or null when the customer is
 * unknown. Throws StateDecodeError when the stored state is corrupt.
 */
export async function readCustomer(redis: Redis, prefix: string, partitions: number, customerId: string): Promise<StoredCustomer | null> {
  const partition = partitionFor(customerId, partitions);
  const keys = partitionKeys(prefix, partition);
  const [raw, cutsRaw] = replies(await redis.pipeline().hget(keys.state, customerId).get(globalKeys(prefix).rfmCuts).exec()) as [string | null, string | null];
  if (raw === null) return null;
  const { version, state, history } = parseCustomerRecord(raw);
  const cuts = cutsRaw === null ? null : (JSON.parse(cutsRaw) as { cuts: RfmCuts }).cuts;
  return { partition, version, state: decodeState(state as string), cuts, history };
}

/** Member counts per `<dimension>:<value>` field, summed over every partition's counts hash. */
export async function readSegmentCounts(redis: Redis, prefix: string, partitions: number): Promise<Map<string, number>> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < partitions; p++) pipeline.hgetall(partitionKeys(prefix, p).counts);
  const totals = new Map<string, number>();
  for (const hash of replies(await pipeline.exec()) as Array<Record<string, string>>) {
    for (const [field, n] of Object.entries(hash)) totals.set(field, (totals.get(field) ?? 0) + Number(n));
  }
  return totals;
}

/** Splits a counts field `<dimension>:<value>` (custom: `custom:<name>`); null for a field of no known dimension. */
export function splitCountField(field: string): { dimension: Dimension; value: string } | null {
  const colon = field.indexOf(':');
  const dimension = field.slice(0, colon) as Dimension;
  if (colon < 1 || !DIMENSIONS.includes(dimension)) return null;
  return { dimension, value: field.slice(colon + 1) };
}

/** Members per SSCAN call: Redis' COUNT hint (a reply may hold a few more, or a whole small set). */
export const SCAN_COUNT = 200;
/** SSCAN calls one page may make before it returns what it has (sparse sets can answer empty replies). */
export const MAX_SCANS_PER_PAGE = 50;

export interface Page {
  members: string[];
  /** Where the next page starts, or null after the last. */
  next: MemberCursor | null;
}

/**
 * One page of the members of a segment value: the partitions' sets `seg:<dimension>:<value>`
 * are scanned in turn (partition 0 first) with SSCAN, the position kept in the cursor.
 *
 * Every member present in the set from the first page to the last is returned; a member added
 * or removed meanwhile may or may not be. Pages hold at most `limit` members and none twice.
 * Redis may return a member twice in one scan while a set's hash table is resized between two
 * calls; such duplicates are dropped within a page but can recur on a later page, as SSCAN
 * documents.
 *
 * A reply larger than the room left in the page (small sets come back whole) is sorted and
 * delivered in order; the cursor then records the SSCAN cursor that produced it, the last
 * member delivered and the cursor the reply returned. The next page calls SSCAN at the same
 * cursor again: when it returns the same next cursor the reply covered the same part of the
 * set, so exactly the members sorted after the last delivered one remain; otherwise (the set
 * was resized or changed) the whole reply is delivered again, which may repeat members but
 * never skips one. A page can hold fewer than `limit` members before the end: only a null
 * `next` means the walk is over.
 */
export async function readMemberPage(
  redis: Redis,
  prefix: string,
  partitions: number,
  dimension: Dimension,
  value: string,
  limit: number,
  from: MemberCursor = START,
): Promise<Page> {
  const members: string[] = [];
  const seen = new Set<string>();
  let at = from;
  for (let scans = 0; scans < MAX_SCANS_PER_PAGE && members.length < limit; scans++) {
    const key = partitionKeys(prefix, at.p).members(dimension, value);
    const [next, batch] = await redis.sscan(key, at.c, 'COUNT', SCAN_COUNT);
    batch.sort();
    const sameReply = at.after !== null && next === at.end;
    const fresh: string[] = [];
    for (const m of batch) {
      if (seen.has(m) || (sameReply && m <= (at.after as string))) continue;
      seen.add(m);
      fresh.push(m);
    }
    const room = limit - members.length;
    if (fresh.length > room) {
      const taken = fresh.slice(0, room);
      members.push(...taken);
      return { members, next: { p: at.p, c: at.c, after: taken[taken.length - 1] as string, end: next } };
    }
    members.push(...fresh);
    if (next !== '0') at = { p: at.p, c: next, after: null, end: null };
    else if (at.p + 1 < partitions) at = { p: at.p + 1, c: '0', after: null, end: null };
    else return { members, next: null };
  }
  return { members, next: at };
}
