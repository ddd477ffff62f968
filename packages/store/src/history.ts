/**
 * A customer's recent segment changes for the read API: the last CRM_HISTORY_LENGTH changes,
 * most recently committed first, packed into the customer's own record of the state hash
 * (`<version>|<history>|<state>`, record.ts). Neither a key nor a field of its own: a list key
 * per customer cost about 150 bytes before its first entry, and a field of a separate hash
 * about 55 (hash entry, field name, bucket) besides its value.
 *
 * The changes of one apply share their time and cause: they form a group that carries both
 * once, at its head, so trimming the oldest changes never orphans one. A header holds what
 * the event causes of one customer share: the partition and the topic suffix, this one
 * relative to the deployment's (CRM_TOPIC_SUFFIX, which every writer and reader is given):
 * nothing when it is the configured one, as it nearly always is.
 *
 *   history := header (';' group)+                     groups newest first
 *   header  := partition ',' suffix
 *   group   := when ('/' change)+
 *   when    := time ',e,' topic ',' offset ',' eventId ',' partition ',' suffix     an input event
 *            | time ',t,' dueAt  |  time ',r,' dueAt                              a timer, a rescore
 *   change  := dimension from to ',' reason ',' segment      one character each ('-' for null)
 *            | dimension ',' from ',' to ',' reason ',' segment   when one has no one-character code
 *
 * Trailing empty fields are left out. A field that starts with `'` is text: the rest, with
 * `%` `,` `/` `;` `|` written as %XX (so a history never holds `|`). Otherwise:
 *
 * - partition: base 36, '!' null; suffix: text. In the header '' is 0 and the configured
 *   suffix (`'` is an empty suffix under a configured one); in a group, the header's. Headers
 *   written before the configured suffix was left out hold it as text, and read the same; one
 *   of them with no suffix reads as the configured one (they differ only where a deployment
 *   changed CRM_TOPIC_SUFFIX, and so its topics). prependHistory rewrites an old header as
 *   a new one would be written;
 * - time: epoch seconds in base 36, or '.' and epoch milliseconds in base 36, when it reads as
 *   toISOString writes it (the domain's times do), else text;
 * - topic: index in TOPIC_CODES (to which the suffix is appended), else text, '' null;
 * - offset: the decimal offset in base 36, else text, '' null;
 * - eventId: a lowercase UUID as its 16 bytes in base64url (22 characters), else text, '' null;
 * - dueAt: '' the group's time (as the domain's timers have it), a time, or '!' for null;
 * - dimension: index in DIMENSIONS; from, to: index in the dimension's values, text, '' null;
 * - reason: '' the rule's own (`rule:<to>`; custom `rule:<name>`, `rule_not_met:<name>`), else
 *   index in REASONS, else text;
 * - segment: text, '' null.
 *
 * Codes are indexes into fixed lists: append only, never reorder. The id is not stored: it is
 * the deterministic changeId of the other fields. An event cause keeps topic, partition, offset
 * and eventId, a timer or rescore cause its dueAt: the other fields are null, as the domain
 * builds them. prependHistory encodes only the new changes and keeps the stored groups as
 * they are, cut after the last change kept.
 */
import { DIMENSIONS, type Dimension, TOPICS, isoUtcMillis } from '@crm/contracts';
import { MEMBER, VOCABULARIES, changeId } from '@crm/domain';
import type { Redis } from 'ioredis';
import type { PartitionKeys } from './keys.ts';
import { parseCustomerRecord } from './record.ts';

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

type Change = Omit<HistoryEntry, 'id'>;

/** The input topics a cause can name. */
const TOPIC_CODES: readonly string[] = [TOPICS.orders, TOPICS.interactions, TOPICS.profiles];

/** Each dimension's values, as the domain's vocabularies order them. */
const VALUES: Readonly<Record<Dimension, readonly string[]>> = { ...VOCABULARIES, custom: [MEMBER] };

/**
 * The reasons the rules give under the default configuration (docs/segmentation.md), the
 * most frequent first (a one-character code each); other thresholds are stored as text.
 */
const REASONS: readonly string[] = [
  'no_purchase',
  'window_spend<10000',
  'lifetime_orders=1',
  'lifetime_orders>=2',
  'window_spend>=10000',
  'recency_days>=180',
  'recency_days>=90',
  'satisfaction:very_high',
  'loyalty:low,satisfaction:high',
  'satisfaction:high',
  'loyalty:low,satisfaction:very_high',
  'frequency>=5,tenure_days>=180',
  'loyalty:high,satisfaction:high',
  'loyalty:high,satisfaction:very_high',
  'csat_avg>=4.5',
  'loyalty:low,satisfaction:neutral',
  'satisfaction:neutral',
  'loyalty:high,satisfaction:neutral',
  'csat_avg>=4',
  'gap_days>=365',
  'no_signal',
  'recency_days>=365',
  'nps:detractor',
  'loyalty:low,satisfaction:low',
  'loyalty:high,satisfaction:low',
  'csat_avg<4',
  'frequency>=5,tenure_days>=180,high_satisfaction',
  'window_spend>=50000',
  'nps:passive',
  'open_complaint',
  'csat_avg<3',
  'nps:promoter',
  'satisfaction:low',
  'loyalty:low,satisfaction:very_low,open_complaint',
  'loyalty:high,satisfaction:very_low',
  'loyalty:low,satisfaction:very_low',
  'csat_avg<3,open_complaint',
  'satisfaction:very_low',
  'csat_avg<2',
  'window_spend>=150000',
  'window_spend>=500000',
  'erased',
  'no_data',
  'no_rating',
  'csat_avg<2,open_complaint',
  'csat_avg<4,open_complaint',
  'csat_avg>=4,open_complaint',
  'csat_avg>=4.5,open_complaint',
  'nps:detractor,open_complaint',
  'nps:passive,open_complaint',
  'nps:promoter,open_complaint',
  'no_rating,open_complaint',
];

/** The code lists, for the tests (the reference packer, the generated changes of testing/history-changes.ts). */
export const HISTORY_CODES = { topics: TOPIC_CODES, values: VALUES, reasons: REASONS };

const codes = (list: readonly string[]): ReadonlyMap<string, string> => new Map(list.map((s, i) => [s, i.toString(36)]));
/** Each dimension's code and its values' codes: one lookup per change. */
const DIMENSION_CODES: ReadonlyMap<string, { code: string; values: ReadonlyMap<string, string> }> = new Map(
  DIMENSIONS.map((d, i) => [d, { code: i.toString(36), values: codes(VALUES[d]) }]),
);
const REASON_CODE = codes(REASONS);

class CorruptHistoryError extends Error {
  constructor(packed: string, why: string) {
    super(`corrupt packed history (${why}): ${packed.slice(0, 80)}`);
    this.name = 'CorruptHistoryError';
  }
}

// ------------------------------------------------------------------ fields

const ESCAPED = /[%,/;|]/g;
const ESCAPES = /%(25|2C|2F|3B|7C)/g;
const text = (s: string): string => (plain(s) ? `'${s}` : `'${s.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
const untext = (f: string): string => f.slice(1).replace(ESCAPES, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
const isText = (f: string): boolean => f.charCodeAt(0) === 39; // '

/** Whether `s` holds none of the characters text escapes (the usual case: no regex run). */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 44 || c === 47 || c === 59 || c === 124) return false; // % , / ; |
  }
  return true;
}

/** An index field (base 36) into `list`. */
function lookup(list: readonly string[], f: string, packed: string): string {
  const v = list[Number.parseInt(f, 36)];
  if (v === undefined) throw new CorruptHistoryError(packed, `no code ${f}`);
  return v;
}

/** Epoch seconds in base 36, or '.' and epoch ms in base 36, when `iso` is what toISOString gives; else text. */
function time(iso: string): string {
  const ms = isoMillis(iso);
  if (Number.isNaN(ms)) return text(iso);
  return ms % 1000 === 0 ? (ms / 1000).toString(36) : `.${ms.toString(36)}`;
}

/** The epoch milliseconds of `iso` when it is exactly what toISOString writes, else NaN. */
function isoMillis(iso: string): number {
  // The usual case, `YYYY-MM-DDTHH:mm:ss.sssZ` after 1970, without a Date: parsing and
  // formatting one per change was a quarter of prependHistory's time.
  if (iso.length === 24 && iso.charCodeAt(19) === 46 /* . */) {
    const ms = isoUtcMillis(iso);
    if (!Number.isNaN(ms)) return ms;
  }
  // Anything else (other years, other forms): whether toISOString gives it back.
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || new Date(ms).toISOString() !== iso ? Number.NaN : ms;
}

function untime(f: string): string {
  if (isText(f)) return untext(f);
  return new Date(f.charCodeAt(0) === 46 ? Number.parseInt(f.slice(1), 36) : Number.parseInt(f, 36) * 1000).toISOString();
}

/** A decimal offset without leading zeros and of at most 15 digits (a safe integer) in base 36, else text. */
function offset(o: string | null): string {
  if (o === null) return '';
  const n = o.length;
  if (n === 0 || n > 15 || (n > 1 && o.charCodeAt(0) === 48)) return text(o);
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = o.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return text(o);
    v = v * 10 + d;
  }
  return v.toString(36);
}
const unoffset = (f: string): string | null => (f === '' ? null : isText(f) ? untext(f) : String(Number.parseInt(f, 36)));

/** Each lowercase hex digit's value by character code, -1 for other codes. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_DIGIT['0123456789abcdef'.charCodeAt(i)] = i;
const hexDigit = (code: number): number => (code < 128 ? (HEX_DIGIT[code] as number) : -1);
const uuidBytes = Buffer.alloc(16);

/**
 * A lowercase UUID (`8-4-4-4-12` hex digits) as its 16 bytes in base64url, else null: read
 * digit by digit (a regex test, a string without the dashes and a Buffer of it took 0.6 µs).
 */
function uuidBase64url(id: string): string | null {
  if (id.length !== 36) return null;
  let j = 0;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 45 /* - */) return null;
      i++;
    }
    const high = hexDigit(id.charCodeAt(i));
    const low = hexDigit(id.charCodeAt(i + 1));
    if (high < 0 || low < 0) return null;
    uuidBytes[j++] = (high << 4) | low;
  }
  return uuidBytes.toString('base64url');
}
const eventId = (id: string | null): string => (id === null ? '' : (uuidBase64url(id) ?? text(id)));
function uneventId(f: string, packed: string): string | null {
  if (f === '') return null;
  if (isText(f)) return untext(f);
  if (f.length !== 22) throw new CorruptHistoryError(packed, `bad event id ${f}`);
  const h = Buffer.from(f, 'base64url').toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Whether `reason` is `prefix` and `name` (without building the string). */
const isPrefixed = (reason: string, prefix: string, name: string): boolean =>
  reason.length === prefix.length + name.length && reason.startsWith(prefix) && reason.endsWith(name);

/** Whether a change's reason is ruleReason's, without building it. */
function hasRuleReason(c: Change): boolean {
  if (c.dimension !== 'custom') return c.to !== null && isPrefixed(c.reason, 'rule:', c.to);
  return c.segment !== null && isPrefixed(c.reason, c.to === null ? 'rule_not_met:' : 'rule:', c.segment);
}

/** The reason a change gets from its own rule, stored as ''. */
function ruleReason(c: Pick<Change, 'dimension' | 'segment' | 'to'>): string | null {
  if (c.dimension === 'custom') return c.segment === null ? null : c.to === null ? `rule_not_met:${c.segment}` : `rule:${c.segment}`;
  return c.to === null ? null : `rule:${c.to}`;
}

/** Fields joined with ',' (no field holds one: text escapes it) without the trailing empty ones. */
function fields(a: string, b: string, c = '', d = '', e = '', f = '', g = ''): string {
  if (g !== '') return `${a},${b},${c},${d},${e},${f},${g}`;
  if (f !== '') return `${a},${b},${c},${d},${e},${f}`;
  if (e !== '') return `${a},${b},${c},${d},${e}`;
  if (d !== '') return `${a},${b},${c},${d}`;
  if (c !== '') return `${a},${b},${c}`;
  return b !== '' ? `${a},${b}` : a;
}

// ------------------------------------------------------------------ header and groups

/** What the event causes of one history share (written in its groups only when they differ). */
interface Header {
  partition: number | null;
  suffix: string;
}

const partitionField = (p: number | null): string => (p === null ? '!' : p.toString(36));
const unpartition = (f: string): number | null => (f === '!' ? null : Number.parseInt(f, 36));

type Contract = { code: string; suffix: string } | null;

/** contractTopic's answers: causes name the few topics a segmenter consumes (bounded all the same). */
const contracts = new Map<string, Contract>();

/** The contract topic a topic name starts with, and the rest (the suffix); null when none. */
function contractTopic(topic: string): Contract {
  const known = contracts.get(topic);
  if (known !== undefined) return known;
  let contract: Contract = null;
  for (let i = 0; i < TOPIC_CODES.length; i++) {
    const name = TOPIC_CODES[i] as string;
    if (!topic.startsWith(name)) continue;
    contract = { code: i.toString(36), suffix: topic.slice(name.length) };
    break;
  }
  if (contracts.size >= 64) contracts.clear();
  contracts.set(topic, contract);
  return contract;
}

/**
 * The header of a new history: the newest event cause's partition and the newest contract
 * topic's suffix (without one, the configured `suffix`), of the last `kept` of `changes`.
 */
function headerOf(changes: readonly Change[], kept: number, suffix: string): Header {
  let partition: number | null | undefined;
  for (let i = changes.length - 1; i >= changes.length - kept; i--) {
    const { cause } = changes[i] as Change;
    if (cause.kind !== 'event') continue;
    if (partition === undefined) partition = cause.partition;
    const contract = cause.topic === null ? null : contractTopic(cause.topic);
    if (contract !== null) return { partition, suffix: contract.suffix };
  }
  return { partition: partition === undefined ? 0 : partition, suffix };
}

/** A header, its suffix relative to the configured `suffix`. */
const packHeader = (h: Header, suffix: string): string =>
  fields(h.partition === 0 ? '' : partitionField(h.partition), h.suffix === suffix ? '' : text(h.suffix));

/**
 * The last header storedHeader read, under which configured suffix, what it says and how
 * packHeader writes it now: the histories of one partition mostly share theirs.
 */
let lastHeader = { packed: '', suffix: '', header: { partition: 0, suffix: '' } as Header, repacked: '' };

function storedHeader(f: string, suffix: string): { header: Header; repacked: string } {
  if (f === lastHeader.packed && suffix === lastHeader.suffix) return lastHeader;
  const [partition = '', written = ''] = f.split(',');
  const header = { partition: partition === '' ? 0 : unpartition(partition), suffix: written === '' ? suffix : untext(written) };
  lastHeader = { packed: f, suffix, header, repacked: packHeader(header, suffix) };
  return lastHeader;
}

const unpackHeader = (f: string, suffix: string): Header => storedHeader(f, suffix).header;

const sameWhen = (a: Change, b: Change): boolean =>
  a.time === b.time &&
  a.cause.kind === b.cause.kind &&
  a.cause.topic === b.cause.topic &&
  a.cause.partition === b.cause.partition &&
  a.cause.offset === b.cause.offset &&
  a.cause.eventId === b.cause.eventId &&
  a.cause.dueAt === b.cause.dueAt;

function packWhen(c: Change, header: Header): string {
  const { cause } = c;
  const t = time(c.time);
  if (cause.kind !== 'event') {
    const kind = cause.kind === 'timer' ? 't' : 'r';
    return fields(t, kind, cause.dueAt === c.time ? '' : cause.dueAt === null ? '!' : time(cause.dueAt));
  }
  let topic = '';
  let suffix = '';
  if (cause.topic !== null) {
    const contract = contractTopic(cause.topic);
    topic = contract?.code ?? text(cause.topic);
    if (contract !== null && contract.suffix !== header.suffix) suffix = text(contract.suffix);
  }
  const partition = cause.partition === header.partition ? '' : partitionField(cause.partition);
  return fields(t, 'e', topic, offset(cause.offset), eventId(cause.eventId), partition, suffix);
}

function unpackWhen(f: string[], packed: string, header: Header): { time: string; cause: HistoryCause } {
  const t = untime(f[0] ?? '');
  const kind = f[1];
  if (kind === 't' || kind === 'r') {
    const d = f[2] ?? '';
    const dueAt = d === '' ? t : d === '!' ? null : untime(d);
    return { time: t, cause: { kind: kind === 't' ? 'timer' : 'rescore', topic: null, partition: null, offset: null, eventId: null, dueAt } };
  }
  if (kind !== 'e') throw new CorruptHistoryError(packed, `no cause kind ${kind}`);
  const [, , topic = '', off = '', id = '', partition = '', suffix = ''] = f;
  const name = topic === '' ? null : isText(topic) ? untext(topic) : lookup(TOPIC_CODES, topic, packed) + (suffix === '' ? header.suffix : untext(suffix));
  return {
    time: t,
    cause: {
      kind: 'event',
      topic: name,
      partition: partition === '' ? header.partition : unpartition(partition),
      offset: unoffset(off),
      eventId: uneventId(id, packed),
      dueAt: null,
    },
  };
}

function packChange(c: Change): string {
  const dimension = DIMENSION_CODES.get(c.dimension);
  const from = c.from === null ? '' : dimension?.values.get(c.from);
  const to = c.to === null ? '' : dimension?.values.get(c.to);
  const reason = hasRuleReason(c) ? '' : (REASON_CODE.get(c.reason) ?? text(c.reason));
  const segment = c.segment === null ? '' : text(c.segment);
  // One character each (the usual case): dimension, from and to as one field.
  if (dimension !== undefined && dimension.code.length === 1 && from !== undefined && from.length < 2 && to !== undefined && to.length < 2)
    return fields(`${dimension.code}${from || '-'}${to || '-'}`, reason, segment);
  const value = (v: string | null, code: string | undefined): string => (v === null ? '' : (code ?? text(v)));
  return fields(dimension?.code ?? text(c.dimension), value(c.from, from), value(c.to, to), reason, segment);
}

function unpackChange(f: string[], when: { time: string; cause: HistoryCause }, packed: string): Change {
  const head = f[0] ?? '';
  const [d = '', from = '', to = '', reason = '', segment = ''] = head.length === 3 && !isText(head) ? [head[0], head[1], head[2], f[1], f[2]] : f;
  const dimension = isText(d) ? untext(d) : lookup(DIMENSIONS, d, packed);
  const values = isText(d) ? [] : VALUES[dimension as Dimension];
  const value = (v: string): string | null => (v === '' || v === '-' ? null : isText(v) ? untext(v) : lookup(values, v, packed));
  const c = { time: when.time, dimension, segment: segment === '' ? null : untext(segment), from: value(from), to: value(to), reason: '', cause: when.cause };
  const own = reason === '' ? ruleReason(c) : isText(reason) ? untext(reason) : lookup(REASONS, reason, packed);
  if (own === null) throw new CorruptHistoryError(packed, 'no reason');
  c.reason = own;
  return c;
}

/** The groups of the last `kept` of `changes` (given oldest first), newest first, each starting with ';'. */
function packGroups(changes: readonly Change[], kept: number, header: Header): string {
  let out = '';
  let newer: Change | undefined;
  for (let i = changes.length - 1; i >= changes.length - kept; i--) {
    const c = changes[i] as Change;
    if (newer === undefined || !sameWhen(newer, c)) out += `;${packWhen(c, header)}`;
    out += `/${packChange(c)}`;
    newer = c;
  }
  return out;
}

/** The stored groups (each starting with ';') cut after their first `n` changes (each starting with '/'). */
function firstChanges(groups: string, n: number): string {
  let previous = -1;
  let change = groups.indexOf('/');
  for (let seen = 0; seen < n && change >= 0; seen++) {
    previous = change;
    change = groups.indexOf('/', change + 1);
  }
  if (change < 0 || n < 0) return groups;
  // Cut before the first change not kept, or before its group when it is the group's first.
  const group = groups.lastIndexOf(';', change);
  return groups.slice(0, group > previous ? group : change);
}

/** The changes of a packed history, newest first, without their ids. */
function unpack(packed: string | null, suffix: string): Change[] {
  if (packed === null || packed === '') return [];
  const out: Change[] = [];
  const [head, ...groups] = packed.split(';');
  if (groups.length === 0) throw new CorruptHistoryError(packed, 'no group');
  const header = unpackHeader(head as string, suffix);
  for (const group of groups) {
    const [when, ...changes] = group.split('/');
    if (changes.length === 0) throw new CorruptHistoryError(packed, 'a group without changes');
    const w = unpackWhen((when as string).split(','), packed, header);
    for (const c of changes) out.push(unpackChange(c.split(','), w, packed));
  }
  return out;
}

// ------------------------------------------------------------------ public

/**
 * The customer's packed history after `changes` (oldest first) were committed on top of
 * `packed` (the stored history, or null), trimmed to `length` changes; null when none remains.
 * `suffix` is the deployment's topic suffix (CRM_TOPIC_SUFFIX): a history written under one
 * must be read under the same (unpackHistory).
 */
export function prependHistory(packed: string | null, changes: readonly Change[], length: number, suffix = ''): string | null {
  const kept = Math.max(0, Math.min(changes.length, length)); // the newest of `changes`
  const stored = packed === null || packed === '' || kept === length ? -1 : packed.indexOf(';');
  if (stored < 0) {
    if (kept === 0) return null;
    const header = headerOf(changes, kept, suffix);
    return packHeader(header, suffix) + packGroups(changes, kept, header);
  }
  // The stored groups are relative to the header's values, which stay; its text is rewritten
  // as packHeader writes it now (an older history's suffix goes when it is the configured one).
  const { header, repacked } = storedHeader((packed as string).slice(0, stored), suffix);
  return repacked + packGroups(changes, kept, header) + firstChanges((packed as string).slice(stored), length - kept);
}

/** The changes of a packed history, newest first, with their ids; `suffix` is the deployment's topic suffix (CRM_TOPIC_SUFFIX). */
export function unpackHistory(customerId: string, packed: string | null, suffix = ''): HistoryEntry[] {
  return unpack(packed, suffix).map((c) => ({ id: changeId(customerId, c.dimension as Dimension, c.segment, c.from, c.to, c.time), ...c }));
}

/** The customer's latest changes, most recently committed first; `suffix` is the deployment's topic suffix (CRM_TOPIC_SUFFIX). */
export async function recentChanges(redis: Redis, keys: PartitionKeys, customerId: string, limit: number, suffix = ''): Promise<HistoryEntry[]> {
  const { history } = parseCustomerRecord(await redis.hget(keys.state, customerId));
  return unpackHistory(customerId, history, suffix).slice(0, limit);
}
