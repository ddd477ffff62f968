/**
 * A customer's recent segment changes for the read API, kept in one field per customer of the
 * partition's history hash (most recently committed first, at most CRM_HISTORY_LENGTH
 * changes). One field, not a list key per customer: a key costs about 150 bytes of overhead
 * before its first entry, which alone would break the 512-byte budget of a typical customer.
 *
 * The field is packed, one change per line, each line a small JSON array:
 *
 *   [dimension, from, to, reason, segment, time, cause...]    first change of an apply
 *   [dimension, from, to, reason, segment]                     same time and cause as the line above
 *
 * - dimension, from and to are codes (their index in TOKENS) when known, else the string;
 * - reason is 0 when it is `rule:<to>` (the RFM segment rules' reason);
 * - time is in epoch seconds when it is a whole second (domain times are), else the string;
 * - the cause is `"e", topic, partition, offset, eventId` (event), `"t", dueAt` (timer) or
 *   `"r", dueAt` (rescore), dueAt encoded like time;
 * - the id is not stored: it is the deterministic changeId of the other fields.
 *
 * Lines of one apply are adjacent and only the newest carries the time and cause, so trimming
 * the oldest lines never orphans one. Prepending and trimming work on lines, without parsing.
 */
import { DIMENSIONS, type Dimension } from '@crm/contracts';
import { EXPECTATION_GAPS, MEMBER, NPS_CLASSES, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS, changeId } from '@crm/domain';
import type { Redis } from 'ioredis';
import type { PartitionKeys } from './keys.ts';

export interface HistoryCause {
  kind: 'event' | 'timer' | 'rescore';
  topic: string | null;
  partition: number | null;
  offset: string | null;
  eventId: string | null;
  dueAt: string | null;
}

export interface HistoryEntry {
  /** The change's deterministic id (the CloudEvent id on the changes topic). */
  id: string;
  time: string;
  dimension: string;
  segment: string | null;
  from: string | null;
  to: string | null;
  reason: string;
  cause: HistoryCause;
}

/** The codes of the packed lines: append only, never reorder (stored histories use them). */
const TOKENS: readonly string[] = [
  ...DIMENSIONS,
  ...RFM_SEGMENTS,
  ...STAGES,
  ...TIERS,
  ...SATISFACTION_LEVELS,
  ...EXPECTATION_GAPS,
  ...QUADRANTS,
  ...NPS_CLASSES,
  MEMBER,
];
const CODE = new Map<string, number>();
for (const [i, t] of TOKENS.entries()) if (!CODE.has(t)) CODE.set(t, i);

type Token = number | string | null;
const token = (s: string | null): Token => (s === null ? null : (CODE.get(s) ?? s));
const untoken = (t: Token): string | null => (typeof t === 'number' ? (TOKENS[t] ?? String(t)) : t);

type Instant = number | string | null;
const instant = (iso: string | null): Instant => {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return ms % 1000 === 0 && new Date(ms).toISOString() === iso ? ms / 1000 : iso;
};
const uninstant = (t: Instant): string | null => (typeof t === 'number' ? new Date(t * 1000).toISOString() : t);

const CAUSE_KIND = { event: 'e', timer: 't', rescore: 'r' } as const;
const KIND_OF = { e: 'event', t: 'timer', r: 'rescore' } as const;

function packCause(c: HistoryCause): unknown[] {
  return c.kind === 'event' ? ['e', c.topic, c.partition, c.offset, c.eventId] : [CAUSE_KIND[c.kind], instant(c.dueAt)];
}

function unpackCause(packed: unknown[]): HistoryCause {
  const kind = KIND_OF[packed[0] as keyof typeof KIND_OF];
  if (kind === 'event') {
    const [, topic, partition, offset, eventId] = packed as [string, string, number, string, string];
    return { kind, topic, partition, offset, eventId, dueAt: null };
  }
  return { kind, topic: null, partition: null, offset: null, eventId: null, dueAt: uninstant(packed[1] as Instant) };
}

const sameCause = (a: HistoryCause, b: HistoryCause): boolean =>
  a.kind === b.kind && a.topic === b.topic && a.partition === b.partition && a.offset === b.offset && a.eventId === b.eventId && a.dueAt === b.dueAt;

type Change = Omit<HistoryEntry, 'id'>;

function packLine(c: Change, newer: Change | undefined): string {
  const reason = c.to !== null && c.reason === `rule:${c.to}` ? 0 : c.reason;
  const head = [token(c.dimension), token(c.from), token(c.to), reason, c.segment];
  const follows = newer !== undefined && newer.time === c.time && sameCause(newer.cause, c.cause);
  return JSON.stringify(follows ? head : [...head, instant(c.time), ...packCause(c.cause)]);
}

/**
 * The customer's packed history after `changes` (oldest first) were committed on top of
 * `packed` (the stored field, or null), trimmed to `length` changes; null when none remains.
 */
export function prependHistory(packed: string | null, changes: readonly Change[], length: number): string | null {
  const lines: string[] = [];
  for (let i = changes.length - 1; i >= 0 && lines.length < length; i--) {
    lines.push(packLine(changes[i] as Change, changes[i + 1]));
  }
  if (packed !== null && packed !== '' && lines.length < length) {
    const older = packed.split('\n');
    for (let i = 0; i < older.length && lines.length < length; i++) lines.push(older[i] as string);
  }
  return lines.length === 0 ? null : lines.join('\n');
}

/** The changes of a packed history, newest first. */
export function unpackHistory(customerId: string, packed: string | null): HistoryEntry[] {
  if (packed === null || packed === '') return [];
  const out: HistoryEntry[] = [];
  let time = '';
  let cause: HistoryCause | undefined;
  for (const line of packed.split('\n')) {
    const [dimension, from, to, reason, segment, at, ...rest] = JSON.parse(line) as [Token, Token, Token, string | 0, string | null, Instant, ...unknown[]];
    if (at !== undefined) {
      time = uninstant(at) as string;
      cause = unpackCause(rest);
    }
    if (cause === undefined) throw new Error(`corrupt history of ${customerId}: its newest line carries no cause`);
    const d = untoken(dimension) as string;
    const f = untoken(from);
    const t = untoken(to);
    out.push({
      id: changeId(customerId, d as Dimension, segment, f, t, time),
      time,
      dimension: d,
      segment,
      from: f,
      to: t,
      reason: reason === 0 ? `rule:${t}` : reason,
      cause,
    });
  }
  return out;
}

/** The customer's latest changes, most recently committed first. */
export async function recentChanges(redis: Redis, keys: PartitionKeys, customerId: string, limit: number): Promise<HistoryEntry[]> {
  return unpackHistory(customerId, await redis.hget(keys.history, customerId)).slice(0, limit);
}
