/**
 * The API's reads of the segmenter's Redis keys (layout: docs/architecture.md). Read-only:
 * nothing here writes. Each function is one round trip per call (pipelined across partitions
 * where it touches several).
 */
import { DIMENSIONS, type Dimension } from '@crm/contracts';
import { type CustomerState, decodeState, holdsMembership } from '@crm/domain';
import { type SegmentFilter, parseCustomerRecord, partitionFor, partitionKeys, scanCustomerRecords } from '@crm/store';
import type { Redis } from 'ioredis';
import { type MemberCursor, START } from './cursor.ts';

export interface StoredCustomer {
  partition: number;
  version: number;
  state: CustomerState;
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

/** Decodes a customer's record (its field's value in the state hash). Throws StateDecodeError when the stored state is corrupt. */
function decodeRecord(partition: number, customerId: string, raw: string): StoredCustomer {
  const { version, state, history } = parseCustomerRecord(raw);
  return { partition, version, state: decodeState(state as string, customerId), history };
}

/**
 * The customer's stored state and recent changes (one record), or null when the customer is
 * unknown. Throws StateDecodeError when the stored state is corrupt.
 */
export async function readStoredCustomer(redis: Redis, prefix: string, partitions: number, customerId: string): Promise<StoredCustomer | null> {
  const partition = partitionFor(customerId, partitions);
  const raw = await redis.hget(partitionKeys(prefix, partition).state, customerId);
  return raw === null ? null : decodeRecord(partition, customerId, raw);
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

/** Members (or fields) per SSCAN/HSCAN call: Redis' COUNT hint (a reply may hold a few more, or a whole small set). */
export const SCAN_COUNT = 200;
/** Scan calls one page may make before it returns what it has (sparse sets can answer empty replies). */
export const MAX_SCANS_PER_PAGE = 50;

export interface Page {
  members: string[];
  /** Where the next page starts, or null after the last. */
  next: MemberCursor | null;
}

/** One scan call of partition `p` at cursor `c`: the next cursor and the items of the reply. */
type Scan<T> = (p: number, c: string) => Promise<[next: string, items: T[]]>;

/**
 * One page of a walk over every partition: each partition's key is scanned in turn (partition
 * 0 first) with a SCAN-family command, the position kept in the cursor. `id` names an item
 * (a member, a customer id): pages order and deduplicate by it.
 *
 * Every item present from the first page to the last is returned; an item added or removed
 * meanwhile may or may not be. Pages hold at most `limit` items and none twice. Redis may
 * return an item twice in one scan while a hash table is resized between two calls; such
 * duplicates are dropped within a page but can recur on a later page, as SCAN documents.
 *
 * A reply larger than the room left in the page (small sets and hashes come back whole) is
 * sorted and delivered in order; the cursor then records the scan cursor that produced it,
 * the last item delivered and the cursor the reply returned. The next page calls the scan at
 * the same cursor again: when it returns the same next cursor the reply covered the same part
 * of the key, so exactly the items sorted after the last delivered one remain; otherwise (the
 * key was resized or changed) the whole reply is delivered again, which may repeat items but
 * never skips one. A page can hold fewer than `limit` items before the end: only a null `next`
 * means the walk is over.
 */
async function scanPage<T>(
  scan: Scan<T>,
  id: (item: T) => string,
  partitions: number,
  limit: number,
  from: MemberCursor,
): Promise<{ items: Array<{ partition: number; item: T }>; next: MemberCursor | null }> {
  const items: Array<{ partition: number; item: T }> = [];
  const seen = new Set<string>();
  let at = from;
  for (let scans = 0; scans < MAX_SCANS_PER_PAGE && items.length < limit; scans++) {
    const [next, batch] = await scan(at.p, at.c);
    const keyed = batch.map((item) => [id(item), item] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sameReply = at.after !== null && next === at.end;
    const fresh: Array<{ partition: number; item: T }> = [];
    for (const [k, item] of keyed) {
      if (seen.has(k) || (sameReply && k <= (at.after as string))) continue;
      seen.add(k);
      fresh.push({ partition: at.p, item });
    }
    const room = limit - items.length;
    if (fresh.length > room) {
      const taken = fresh.slice(0, room);
      items.push(...taken);
      return { items, next: { p: at.p, c: at.c, after: id((taken[taken.length - 1] as { item: T }).item), end: next } };
    }
    items.push(...fresh);
    if (next !== '0') at = { p: at.p, c: next, after: null, end: null };
    else if (at.p + 1 < partitions) at = { p: at.p + 1, c: '0', after: null, end: null };
    else return { items, next: null };
  }
  return { items, next: at };
}

/** One page of the members of a segment value: the partitions' sets `seg:<dimension>:<value>`, SSCAN in turn (scanPage). */
export async function readMemberPage(
  redis: Redis,
  prefix: string,
  partitions: number,
  dimension: Dimension,
  value: string,
  limit: number,
  from: MemberCursor = START,
): Promise<Page> {
  const sscan: Scan<string> = (p, c) => redis.sscan(partitionKeys(prefix, p).members(dimension, value), c, 'COUNT', SCAN_COUNT);
  const page = await scanPage(sscan, (m) => m, partitions, limit, from);
  return { members: page.items.map((i) => i.item), next: page.next };
}

/** A segment value to filter customers by (`where=dimension:value`): the segment index's sets of each partition. */
export type Where = SegmentFilter;

export interface CustomerPage {
  customers: Array<{ customerId: string } & StoredCustomer>;
  next: MemberCursor | null;
}

/**
 * One page of every customer (HSCAN of each partition's state hash in turn), or with `where`
 * of a segment's members (SSCAN of its set in each partition, then HMGET of their records,
 * keeping those whose stored state still holds the membership: it may have moved between the
 * two reads). Paged as scanPage pages: every customer present from the first page to the last
 * is returned once (the state hash only grows: an erasure keeps a tombstone). Each call reads
 * at most MAX_SCANS_PER_PAGE replies of about SCAN_COUNT records: memory is bounded by the page.
 */
export async function readCustomerPage(
  redis: Redis,
  prefix: string,
  partitions: number,
  where: Where | null,
  limit: number,
  from: MemberCursor = START,
): Promise<CustomerPage> {
  type Item = [id: string, raw: string];
  const scan: Scan<Item> = (p, c) => scanCustomerRecords(redis, partitionKeys(prefix, p), where, c, SCAN_COUNT);
  const page = await scanPage(scan, ([id]) => id, partitions, limit, from);
  const customers = page.items.map(({ partition, item: [customerId, raw] }) => ({ customerId, ...decodeRecord(partition, customerId, raw) }));
  return {
    customers: where === null ? customers : customers.filter((c) => holdsMembership(c.state.memberships, where.dimension, where.value)),
    next: page.next,
  };
}
