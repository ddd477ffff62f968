/**
 * Compact codec of CustomerState for Redis (512-byte per-customer budget; a typical customer
 * encodes in about 300 bytes). A versioned, delimited text format of base-36 numbers; fact
 * times are stored as whole seconds before asOf. docs/segmentation.md §9 gives the grammar.
 *
 *   1|asOf|memberships|profile|past|orders|interactions|customerId
 *
 * The customer id is left empty when it is the one the record is stored under (the field of
 * the partition's state hash): `encodeState(s, storedAs)`, `decodeState(encoded, storedAs)`.
 */
import { z } from 'zod';
import { StateDecodeError, formatPath } from './errors.ts';
import { SEGMENT_NAME } from './config.ts';
import { type CustomerState, type InteractionRecord, KEY_DIGITS, type OrderRecord, type PastOrders, TIE_MODULUS } from './state.ts';
import { SECOND_MS } from './time.ts';
import { EXPECTATION_GAPS, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS } from './vocabulary.ts';

const VERSION = '1';
const VOCABS = [RFM_SEGMENTS, STAGES, TIERS, SATISFACTION_LEVELS, EXPECTATION_GAPS, QUADRANTS] as const;
const MEMBERSHIP_FIELDS = ['rfmSegment', 'stage', 'tier', 'satisfaction', 'expectationGap', 'quadrant'] as const;

/** Char codes of the format's separators, and of VERSION. */
const BAR = 124; // '|'
const COMMA = 44; // ','
const SEMICOLON = 59; // ';'
const COLON = 58; // ':'
const DASH = 45; // '-'
const ONE = 49; // '1', VERSION

// ------------------------------------------------------------------ encode

const b36 = (n: number): string => n.toString(36);

/**
 * encodeState by building each record's fields as strings and joining them: the reference
 * encodeState is tested against, and what it falls back to for a state with non-ASCII text.
 */
export function encodeStateSlowly(s: CustomerState, storedAs?: string): string {
  const asOfSec = Math.floor(s.asOf / SECOND_MS);
  const rel = (t: number | null): string => (t === null ? '' : b36(asOfSec - t / SECOND_MS));
  /** Joins fields with ',', leaving out trailing empty ones (the decoder reads missing fields as empty). */
  const trim = (fields: string[]): string => {
    let n = fields.length;
    while (n > 0 && fields[n - 1] === '') n--;
    return (n === fields.length ? fields : fields.slice(0, n)).join(',');
  };
  const m = s.memberships;
  let members = '';
  MEMBERSHIP_FIELDS.forEach((f, i) => {
    const v = m[f];
    members += v === null ? '-' : b36((VOCABS[i] as readonly string[]).indexOf(v));
  });
  if (m.custom.length > 0) members += `:${m.custom.join(',')}`;
  const { consent, nps } = s;
  const profile = trim([
    rel(s.registeredAt),
    rel(consent?.t ?? null),
    consent === null ? '' : b36(consent.h),
    consent === null ? '' : consent.value ? '1' : '0',
    rel(nps?.t ?? null),
    nps === null ? '' : b36(nps.h),
    nps === null ? '' : b36(nps.value),
    rel(s.seenAt),
    rel(s.erasedAt),
  ]);
  // previous is the fifth field, left out when null (records from before it was kept have four).
  const past = s.past === null ? '' : trim([b36(s.past.count), b36(s.past.netMinor), rel(s.past.first), rel(s.past.last), rel(s.past.previous)]);
  const orders = s.orders
    .map((o) =>
      trim([
        o.key,
        rel(o.completed?.t ?? null),
        o.completed === null ? '' : b36(o.completed.h),
        o.completed === null ? '' : b36(o.completed.amountMinor),
        rel(o.refund?.t ?? null),
        o.refund === null ? '' : b36(o.refund.amountMinor),
        rel(o.cancelledAt),
      ]),
    )
    .join(';');
  const interactions = s.interactions
    .map((i) => trim([i.key, rel(i.t), b36(i.h), b36((i.csat ?? 0) * 4 + (i.complaint ? 2 : 0) + (i.resolved ? 1 : 0)), i.caseKey ?? '']))
    .join(';');
  return [VERSION, b36(s.asOf), members, profile, past, orders, interactions, s.customerId === storedAs ? '' : s.customerId].join('|');
}

// ------------------------------------------------------------------ encode in one pass

/*
 * encodeState writes the bytes of what encodeStateSlowly returns into one reused buffer,
 * numbers as base-36 digits straight from their value, and reads the string out once:
 * per customer written, the slow encoder's field strings, arrays and joins (and the
 * runtime's radix conversion) were nearly all of its cost. Everything it writes is ASCII;
 * a state with other text (a customer id, a segment name) goes to encodeStateSlowly.
 * Module state: encoding is synchronous.
 */

/** The encoding so far: `length` bytes of `bytes`, grown when a state needs more. */
let bytes = Buffer.allocUnsafe(1024);
let length = 0;
/** The end of the current record's last non-empty field: trailing empty fields are cut off there. */
let kept = 0;
/** No field of the current record written yet (the first has no comma before it). */
let atRecordStart = true;
/** Text outside ASCII was met: the state goes to encodeStateSlowly. */
let notAscii = false;
/** The asOf of the state being encoded, in whole seconds: fact times are written relative to it. */
let encodingAsOfSec = 0;

const DIGITS = [...'0123456789abcdefghijklmnopqrstuvwxyz'].map((c) => c.charCodeAt(0));

function reserve(n: number): void {
  if (length + n <= bytes.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(2 * bytes.length, length + n));
  bytes.copy(bigger, 0, 0, length);
  bytes = bigger;
}
function writeByte(c: number): void {
  reserve(1);
  bytes[length++] = c;
}
function writeText(s: string): void {
  reserve(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) notAscii = true;
    bytes[length++] = c;
  }
}
/** `n.toString(36)`: whole numbers digit by digit (exact below 2^53), anything else by the runtime. */
function writeNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    writeText(n.toString(36));
    return;
  }
  let width = 1;
  for (let x = n; x >= 36; x = Math.floor(x / 36)) width++;
  reserve(width);
  // x - 36q, not x % 36: the remainder of a double is a call into the runtime.
  for (let i = length + width - 1, x = n; i >= length; i--) {
    const q = Math.floor(x / 36);
    bytes[i] = DIGITS[x - 36 * q] as number;
    x = q;
  }
  length += width;
}

/** Starts a comma-separated record: its fields follow, its trailing empty ones are left out. */
function openRecord(): void {
  atRecordStart = true;
  kept = length;
}
function nextField(): void {
  if (atRecordStart) atRecordStart = false;
  else writeByte(COMMA);
}
function closeRecord(): void {
  length = kept;
}
function numberField(n: number): void {
  nextField();
  writeNumber(n);
  kept = length;
}
function emptyFields(n: number): void {
  for (let i = 0; i < n; i++) nextField();
}
/** A fact time, relative to asOf in seconds; empty for null. */
function timeField(t: number | null): void {
  if (t === null) nextField();
  else numberField(encodingAsOfSec - t / SECOND_MS);
}
function textField(s: string): void {
  nextField();
  writeText(s);
  if (s !== '') kept = length;
}

/** Records separated by ';', then the '|' that ends the section. */
function writeRecords<T>(records: readonly T[], writeRecord: (record: T) => void): void {
  for (let n = 0; n < records.length; n++) {
    if (n > 0) writeByte(SEMICOLON);
    openRecord();
    writeRecord(records[n] as T);
    closeRecord();
  }
  writeByte(BAR);
}
function writeOrder(o: OrderRecord): void {
  textField(o.key);
  if (o.completed === null) emptyFields(3);
  else {
    timeField(o.completed.t);
    numberField(o.completed.h);
    numberField(o.completed.amountMinor);
  }
  if (o.refund === null) emptyFields(2);
  else {
    timeField(o.refund.t);
    numberField(o.refund.amountMinor);
  }
  timeField(o.cancelledAt);
}
function writeInteraction(i: InteractionRecord): void {
  textField(i.key);
  timeField(i.t);
  numberField(i.h);
  numberField((i.csat ?? 0) * 4 + (i.complaint ? 2 : 0) + (i.resolved ? 1 : 0));
  textField(i.caseKey ?? '');
}

/**
 * Encodes a state; `decodeState(encodeState(s))` deep-equals `s`. `storedAs`: the customer id
 * the record is stored under, left out when it is the state's (`decodeState(encoded, storedAs)`
 * puts it back): the field of the state hash already says it.
 */
export function encodeState(s: CustomerState, storedAs?: string): string {
  length = 0;
  notAscii = false;
  encodingAsOfSec = Math.floor(s.asOf / SECOND_MS);
  writeByte(ONE);
  writeByte(BAR);
  writeNumber(s.asOf);
  writeByte(BAR);
  const m = s.memberships;
  for (let i = 0; i < MEMBERSHIP_FIELDS.length; i++) {
    const v = m[MEMBERSHIP_FIELDS[i] as (typeof MEMBERSHIP_FIELDS)[number]];
    if (v === null) writeByte(DASH);
    else writeNumber((VOCABS[i] as readonly string[]).indexOf(v));
  }
  for (let i = 0; i < m.custom.length; i++) {
    writeByte(i === 0 ? COLON : COMMA);
    writeText(m.custom[i] as string);
  }
  writeByte(BAR);

  const { consent, nps } = s;
  openRecord();
  timeField(s.registeredAt);
  if (consent === null) emptyFields(3);
  else {
    timeField(consent.t);
    numberField(consent.h);
    numberField(consent.value ? 1 : 0);
  }
  if (nps === null) emptyFields(3);
  else {
    timeField(nps.t);
    numberField(nps.h);
    numberField(nps.value);
  }
  timeField(s.seenAt);
  timeField(s.erasedAt);
  closeRecord();
  writeByte(BAR);

  const past = s.past;
  if (past !== null) {
    openRecord();
    numberField(past.count);
    numberField(past.netMinor);
    timeField(past.first);
    timeField(past.last);
    // previous is the fifth field, left out when null (records from before it was kept have four).
    timeField(past.previous);
    closeRecord();
  }
  writeByte(BAR);

  writeRecords(s.orders, writeOrder);
  writeRecords(s.interactions, writeInteraction);
  if (s.customerId !== storedAs) writeText(s.customerId);
  return notAscii ? encodeStateSlowly(s, storedAs) : bytes.toString('latin1', 0, length);
}

// ------------------------------------------------------------------ decode

/** 9999-12-31T23:59:59Z: the last whole second of four-digit years. */
const MAX_TIME = 253_402_300_799_000;
const MAX_AS_OF = MAX_TIME + 999;
const KEY = new RegExp(`^[0-9a-z]{${KEY_DIGITS}}$`);

const time = z.number().int().min(0).max(MAX_TIME).multipleOf(SECOND_MS);
const key = z.string().regex(KEY);
const tie = z
  .number()
  .int()
  .min(0)
  .max(TIE_MODULUS - 1);
const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const latestOf = <T extends z.ZodType>(value: T) => z.object({ t: time, h: tie, value }).nullable();
const sortedByKey = (list: readonly { key: string }[]): boolean => list.every((x, i) => i === 0 || (list[i - 1] as { key: string }).key < x.key);

/** The decoded state must satisfy this schema (ranges, vocabularies, canonical order). */
export const CustomerStateSchema = z.object({
  customerId: z.string().min(1).max(128),
  asOf: z.number().int().min(0).max(MAX_AS_OF),
  registeredAt: time.nullable(),
  consent: latestOf(z.boolean()),
  nps: latestOf(z.number().int().min(0).max(10)),
  seenAt: time.nullable(),
  erasedAt: time.nullable(),
  past: z.object({ count: z.number().int().min(1), netMinor: amount, first: time, last: time, previous: time.nullable() }).nullable(),
  orders: z
    .array(
      z.object({
        key,
        completed: z.object({ t: time, h: tie, amountMinor: amount }).nullable(),
        refund: z.object({ t: time, amountMinor: amount }).nullable(),
        cancelledAt: time.nullable(),
      }),
    )
    .refine(sortedByKey, { message: 'orders must be sorted by key without duplicates' }),
  interactions: z
    .array(
      z.object({
        key,
        t: time,
        h: tie,
        csat: z.number().int().min(1).max(5).nullable(),
        complaint: z.boolean(),
        resolved: z.boolean(),
        caseKey: key.nullable(),
      }),
    )
    .refine(sortedByKey, { message: 'interactions must be sorted by key without duplicates' }),
  memberships: z.object({
    rfmSegment: z.enum(RFM_SEGMENTS).nullable(),
    stage: z.enum(STAGES).nullable(),
    tier: z.enum(TIERS).nullable(),
    satisfaction: z.enum(SATISFACTION_LEVELS).nullable(),
    expectationGap: z.enum(EXPECTATION_GAPS).nullable(),
    quadrant: z.enum(QUADRANTS).nullable(),
    custom: z.array(z.string().regex(SEGMENT_NAME)),
  }),
});

// ------------------------------------------------------------------ fast schema check

const isInt = (x: number, min: number, max: number): boolean => Number.isSafeInteger(x) && x >= min && x <= max;
const isTime = (t: number): boolean => isInt(t, 0, MAX_TIME) && t % SECOND_MS === 0;
const isOptTime = (t: number | null): boolean => t === null || isTime(t);
const isTie = (h: number): boolean => isInt(h, 0, TIE_MODULUS - 1);
const isAmount = (a: number): boolean => isInt(a, 0, Number.MAX_SAFE_INTEGER);
/** KEY.test(k), without the regular expression (it ran for every key of every state decoded). */
function isKey(k: string): boolean {
  if (typeof k !== 'string' || k.length !== KEY_DIGITS) return false;
  for (let i = 0; i < k.length; i++) if (digitOf(k.charCodeAt(i)) < 0) return false;
  return true;
}
const isOneOf = (v: string | null, vocabulary: readonly string[]): boolean => v === null || vocabulary.includes(v);

/**
 * CustomerStateSchema's checks, hand-written for what decodeState builds: true exactly when
 * the schema accepts `s` (codec.test.ts checks them against each other; refusing more would
 * only cost time, accepting more would let corrupt states in). decodeState trusts it and
 * asks zod only when it fails, for the issues' paths and messages: running the schema on
 * every decode took about a tenth of the decode-apply-encode loop's CPU. Keep the two in step.
 */
export function satisfiesSchema(s: CustomerState): boolean {
  const m = s.memberships;
  return (
    s.customerId.length >= 1 &&
    s.customerId.length <= 128 &&
    isInt(s.asOf, 0, MAX_AS_OF) &&
    isOptTime(s.registeredAt) &&
    (s.consent === null || (isTime(s.consent.t) && isTie(s.consent.h) && typeof s.consent.value === 'boolean')) &&
    (s.nps === null || (isTime(s.nps.t) && isTie(s.nps.h) && isInt(s.nps.value, 0, 10))) &&
    isOptTime(s.seenAt) &&
    isOptTime(s.erasedAt) &&
    (s.past === null ||
      (isInt(s.past.count, 1, Number.MAX_SAFE_INTEGER) &&
        isAmount(s.past.netMinor) &&
        isTime(s.past.first) &&
        isTime(s.past.last) &&
        isOptTime(s.past.previous))) &&
    s.orders.every(
      (o, i) =>
        isKey(o.key) &&
        (i === 0 || (s.orders[i - 1] as OrderRecord).key < o.key) &&
        (o.completed === null || (isTime(o.completed.t) && isTie(o.completed.h) && isAmount(o.completed.amountMinor))) &&
        (o.refund === null || (isTime(o.refund.t) && isAmount(o.refund.amountMinor))) &&
        isOptTime(o.cancelledAt),
    ) &&
    s.interactions.every(
      (x, i) =>
        isKey(x.key) &&
        (i === 0 || (s.interactions[i - 1] as InteractionRecord).key < x.key) &&
        isTime(x.t) &&
        isTie(x.h) &&
        (x.csat === null || isInt(x.csat, 1, 5)) &&
        (x.caseKey === null || isKey(x.caseKey)),
    ) &&
    isOneOf(m.rfmSegment, RFM_SEGMENTS) &&
    isOneOf(m.stage, STAGES) &&
    isOneOf(m.tier, TIERS) &&
    isOneOf(m.satisfaction, SATISFACTION_LEVELS) &&
    isOneOf(m.expectationGap, EXPECTATION_GAPS) &&
    isOneOf(m.quadrant, QUADRANTS) &&
    m.custom.every((name) => SEGMENT_NAME.test(name))
  );
}

// ------------------------------------------------------------------ decode helpers

function fail(message: string): never {
  throw new StateDecodeError(`corrupt state: ${message}`);
}

/**
 * `s.split(separator)` for a one-character separator, in JS: String#split goes through the
 * runtime, and splitting every record was the larger part of decoding.
 */
export function splitOn(s: string, separator: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let at = s.indexOf(separator); at >= 0; at = s.indexOf(separator, from)) {
    out.push(s.slice(from, at));
    from = at + 1;
  }
  out.push(s.slice(from));
  return out;
}

/** Digits of a base-36 number num accepts: up to 36^11 - 1 (its value only approximate above 2^53). */
const MAX_NUM_DIGITS = 11;
/** Up to 10 digits (36^10 < 2^53) a running sum is exact: the value parseInt gives. */
const EXACT_NUM_DIGITS = 10;

/** A base-36 number of 1 to 11 digits 0-9a-z, read in one pass (it is called for every field). */
function num(s: string | undefined, what: string): number {
  if (s === undefined || s.length === 0 || s.length > MAX_NUM_DIGITS) fail(`${what} is not a base-36 number: ${JSON.stringify(s)}`);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1; // '0'-'9', 'a'-'z'
    if (digit < 0) fail(`${what} is not a base-36 number: ${JSON.stringify(s)}`);
    n = n * 36 + digit;
  }
  return s.length <= EXACT_NUM_DIGITS ? n : Number.parseInt(s, 36);
}
function opt(s: string | undefined, what: string): number | null {
  return s === undefined || s === '' ? null : num(s, what);
}

// ------------------------------------------------------------------ decode in one pass

/*
 * decodeQuickly reads what encodeState writes in one pass, numbers straight from the char
 * codes, without the splits and substrings of decodeStateSlowly: the timer path decodes
 * every due customer, and splitting was most of decoding. Whatever it does not expect,
 * including input decodeStateSlowly accepts by ignoring a part of it, it leaves to
 * decodeStateSlowly by returning null. So it returns a state only where decodeStateSlowly
 * returns the same one (codec.test.ts checks it on encodings and their mutations).
 */

/** The string decodeQuickly reads, and its cursor. Module state: decoding is synchronous. */
let src = '';
let at = 0;
/** field(): the field is empty (the cursor on what follows it). Numbers are >= 0. */
const EMPTY = -1;
/** field(): more digits than a number has (MAX_NUM_DIGITS). */
const BAIL = -2;

/** The value of a base-36 digit's char code, or -1. */
function digitOf(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1; // '0'-'9', 'a'-'z'
}

/** Digits of the last field(). */
let fieldLength = 0;

/** The base-36 number at the cursor, which moves past its digits, as num reads it: EMPTY without digits, BAIL for too many. */
function field(): number {
  const start = at;
  let n = 0;
  for (; at < src.length; at++) {
    const d = digitOf(src.charCodeAt(at));
    if (d < 0) break;
    n = n * 36 + d;
  }
  fieldLength = at - start;
  if (fieldLength === 0) return EMPTY;
  if (fieldLength <= EXACT_NUM_DIGITS) return n;
  return fieldLength === MAX_NUM_DIGITS ? Number.parseInt(src.slice(start, at), 36) : BAIL;
}

/** Moves past `c` when the cursor is on it. */
function skip(c: number): boolean {
  if (src.charCodeAt(at) !== c) return false;
  at++;
  return true;
}

/** The characters from the cursor up to the next separator (',', ';', ':' or '|') or the end; the cursor moves there. */
function token(): string {
  const start = at;
  for (; at < src.length; at++) {
    const c = src.charCodeAt(at);
    if (c === COMMA || c === SEMICOLON || c === COLON || c === BAR) break;
  }
  return src.slice(start, at);
}

/** Fields read by fields(): numbers or EMPTY. */
const got = [0, 0, 0, 0, 0, 0, 0, 0, 0];
/** Digits of the fourth field fields() read (0 when it read fewer): the profile's consent value is one char. */
let consentValueLength = 0;

/**
 * Reads up to `n` comma-separated numbers into `got` (the missing ones EMPTY), leaving the
 * cursor after the last one read (on whatever follows: the caller checks it). False for a
 * number decodeQuickly does not read.
 */
function fields(n: number): boolean {
  for (let i = 0; i < n; i++) got[i] = EMPTY;
  consentValueLength = 0;
  for (let i = 0; i < n; i++) {
    const f = field();
    if (f === BAIL) return false;
    got[i] = f;
    if (i === 3) consentValueLength = fieldLength;
    if (i + 1 === n || !skip(COMMA)) return true;
  }
  return true;
}

/** The value of a membership code char at the cursor (which moves past it): null for '-', undefined for no value. */
function membership(vocabulary: readonly string[]): string | null | undefined {
  const c = src.charCodeAt(at++);
  if (c === DASH) return null;
  const d = digitOf(c);
  return d < 0 ? undefined : vocabulary[d];
}

/** At the end of a record of a list: ';' (another follows) or '|' (the list's end). */
const atRecordEnd = (): boolean => src.charCodeAt(at) === SEMICOLON || src.charCodeAt(at) === BAR;

/** decodeState's result for what encodeState writes, or null to leave the input to decodeStateSlowly. */
export function decodeQuickly(encoded: string, storedAs?: string): CustomerState | null {
  src = encoded;
  at = 0;
  if (src.charCodeAt(0) !== ONE || src.charCodeAt(1) !== BAR) return null; // version 1
  at = 2;
  const asOf = field();
  if (asOf < 0 || !skip(BAR)) return null;
  const asOfSec = Math.floor(asOf / SECOND_MS);
  const abs = (r: number): number | null => (r === EMPTY ? null : (asOfSec - r) * SECOND_MS);

  if (at + MEMBERSHIP_FIELDS.length > src.length) return null;
  const rfmSegment = membership(RFM_SEGMENTS);
  const stage = membership(STAGES);
  const tier = membership(TIERS);
  const satisfaction = membership(SATISFACTION_LEVELS);
  const expectationGap = membership(EXPECTATION_GAPS);
  const quadrant = membership(QUADRANTS);
  if (rfmSegment === undefined || stage === undefined || tier === undefined) return null;
  if (satisfaction === undefined || expectationGap === undefined || quadrant === undefined) return null;
  const custom: string[] = [];
  if (skip(COLON)) {
    do custom.push(token());
    while (skip(COMMA));
  }
  if (!skip(BAR)) return null;

  // registeredAt, consent t h value, nps t h value, seenAt, erasedAt.
  if (!fields(9) || !skip(BAR)) return null;
  const [registered = EMPTY, ct = EMPTY, ch = EMPTY, cv = EMPTY, nt = EMPTY, nh = EMPTY, nv = EMPTY, seen = EMPTY, erased = EMPTY] = got;
  // Like decodeStateSlowly, a latest value without its time is none, whatever follows the time.
  if (ct !== EMPTY && (ch === EMPTY || consentValueLength !== 1 || cv > 1)) return null;
  if (nt !== EMPTY && (nh === EMPTY || nv === EMPTY)) return null;

  let past: PastOrders | null = null;
  if (!skip(BAR)) {
    // count, netMinor, first, last[, previous]: records from before previous was kept have four.
    if (!fields(5) || !skip(BAR)) return null;
    const [count = EMPTY, netMinor = EMPTY, first = EMPTY, last = EMPTY, previous = EMPTY] = got;
    if (count === EMPTY || netMinor === EMPTY || first === EMPTY || last === EMPTY) return null;
    past = { count, netMinor, first: (asOfSec - first) * SECOND_MS, last: (asOfSec - last) * SECOND_MS, previous: abs(previous) };
  }

  const orders: OrderRecord[] = [];
  if (!skip(BAR)) {
    do {
      const key = token();
      if (skip(COMMA)) {
        if (!fields(6)) return null;
      } else for (let i = 0; i < 6; i++) got[i] = EMPTY;
      if (!atRecordEnd()) return null;
      const [t = EMPTY, h = EMPTY, amountMinor = EMPTY, rt = EMPTY, refunded = EMPTY, cancelled = EMPTY] = got;
      if ((t !== EMPTY && (h === EMPTY || amountMinor === EMPTY)) || (rt !== EMPTY && refunded === EMPTY)) return null;
      orders.push({
        key,
        completed: t === EMPTY ? null : { t: (asOfSec - t) * SECOND_MS, h, amountMinor },
        refund: rt === EMPTY ? null : { t: (asOfSec - rt) * SECOND_MS, amountMinor: refunded },
        cancelledAt: abs(cancelled),
      });
    } while (skip(SEMICOLON));
    if (!skip(BAR)) return null;
  }

  const interactions: InteractionRecord[] = [];
  if (!skip(BAR)) {
    do {
      const key = token();
      if (!skip(COMMA) || !fields(3)) return null;
      const [t = EMPTY, h = EMPTY, code = EMPTY] = got;
      if (t === EMPTY || h === EMPTY || code === EMPTY || code > 23) return null;
      const caseKey = skip(COMMA) ? token() : '';
      if (!atRecordEnd()) return null;
      const csat = Math.floor(code / 4);
      interactions.push({
        key,
        t: (asOfSec - t) * SECOND_MS,
        h,
        csat: csat === 0 ? null : csat,
        complaint: (code & 2) !== 0,
        resolved: (code & 1) !== 0,
        caseKey: caseKey === '' ? null : caseKey,
      });
    } while (skip(SEMICOLON));
    if (!skip(BAR)) return null;
  }

  const customerId = at === src.length && storedAs !== undefined ? storedAs : src.slice(at);
  // In the schema's key order, like a state zod parsed (and decodeStateSlowly built).
  const candidate: CustomerState = {
    customerId,
    asOf,
    registeredAt: abs(registered),
    consent: ct === EMPTY ? null : { t: (asOfSec - ct) * SECOND_MS, h: ch, value: cv === 1 },
    nps: nt === EMPTY ? null : { t: (asOfSec - nt) * SECOND_MS, h: nh, value: nv },
    seenAt: abs(seen),
    erasedAt: abs(erased),
    past,
    orders,
    interactions,
    memberships: { rfmSegment, stage, tier, satisfaction, expectationGap, quadrant, custom } as CustomerState['memberships'],
  };
  return satisfiesSchema(candidate) ? candidate : null;
}

/**
 * Decodes a string produced by encodeState. Throws StateDecodeError (never anything else)
 * on corrupt, truncated or unknown-version input. `storedAs`: the customer id the record is
 * stored under, the state's when the encoding leaves its own out (encodeState).
 */
export function decodeState(encoded: string, storedAs?: string): CustomerState {
  return (typeof encoded === 'string' ? decodeQuickly(encoded, storedAs) : null) ?? decodeStateSlowly(encoded, storedAs);
}

/**
 * decodeState by splitting the fields: the reference decodeQuickly is tested against, and
 * the one that finds what is wrong with input decodeQuickly leaves to it.
 */
export function decodeStateSlowly(encoded: string, storedAs?: string): CustomerState {
  if (typeof encoded !== 'string') fail('not a string');
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < 7; i++) {
    const bar = encoded.indexOf('|', from);
    if (bar < 0) fail(`expected 8 fields, found ${i + 1}`);
    parts.push(encoded.slice(from, bar));
    from = bar + 1;
  }
  parts.push(encoded.slice(from));
  const [version, asOfS, membersS, profileS, pastS, ordersS, interactionsS, written] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== VERSION) fail(`unknown version ${JSON.stringify(version)}`);
  const customerId = written === '' && storedAs !== undefined ? storedAs : written;
  const asOf = num(asOfS, 'asOf');
  const asOfSec = Math.floor(asOf / SECOND_MS);
  const abs = (s: string | undefined, what: string): number | null => {
    const r = opt(s, what);
    return r === null ? null : (asOfSec - r) * SECOND_MS;
  };
  const req = (s: string | undefined, what: string): number => abs(s, what) ?? fail(`${what} is missing`);

  const [codes = '', customS] = splitOn(membersS, ':');
  if (codes.length !== MEMBERSHIP_FIELDS.length) fail('memberships have the wrong length');
  // In the schema's key order, like a state zod parsed.
  const memberships: Record<string, unknown> = {};
  MEMBERSHIP_FIELDS.forEach((f, i) => {
    const ch = codes[i] as string;
    memberships[f] = ch === '-' ? null : ((VOCABS[i] as readonly string[])[num(ch, f)] ?? fail(`${f} code ${ch} is unknown`));
  });
  memberships['custom'] = customS === undefined ? [] : splitOn(customS, ',');

  const p = splitOn(profileS, ',');
  const latest = (i: number, what: string, value: (s: string) => unknown): unknown => {
    const t = abs(p[i], what);
    return t === null ? null : { t, h: num(p[i + 1], `${what}.h`), value: value(p[i + 2] ?? '') };
  };
  const registeredAt = abs(p[0], 'registeredAt');
  const consent = latest(1, 'consent', (v) => (v === '1' ? true : v === '0' ? false : fail('consent value')));
  const nps = latest(4, 'nps', (v) => num(v, 'nps'));
  const seenAt = abs(p[7], 'seenAt');
  const erasedAt = abs(p[8], 'erasedAt');

  let past: PastOrders | null = null;
  if (pastS !== '') {
    const q = splitOn(pastS, ',');
    past = {
      count: num(q[0], 'past.count'),
      netMinor: num(q[1], 'past.net'),
      first: req(q[2], 'past.first'),
      last: req(q[3], 'past.last'),
      // Absent in records from before it was kept.
      previous: abs(q[4], 'past.previous'),
    };
  }
  const orders: OrderRecord[] =
    ordersS === ''
      ? []
      : splitOn(ordersS, ';').map((rec) => {
          const f = splitOn(rec, ',');
          const ct = abs(f[1], 'order.completed.t');
          const rt = abs(f[4], 'order.refund.t');
          return {
            key: f[0] ?? '',
            completed: ct === null ? null : { t: ct, h: num(f[2], 'order.completed.h'), amountMinor: num(f[3], 'order.completed.amount') },
            refund: rt === null ? null : { t: rt, amountMinor: num(f[5], 'order.refund.amount') },
            cancelledAt: abs(f[6], 'order.cancelledAt'),
          };
        });
  const interactions: InteractionRecord[] =
    interactionsS === ''
      ? []
      : splitOn(interactionsS, ';').map((rec) => {
          const f = splitOn(rec, ',');
          const code = num(f[3], 'interaction.code');
          if (code > 23) fail(`interaction code ${code} out of range`);
          const csat = Math.floor(code / 4);
          return {
            key: f[0] ?? '',
            t: req(f[1], 'interaction.t'),
            h: num(f[2], 'interaction.h'),
            csat: csat === 0 ? null : csat,
            complaint: (code & 2) !== 0,
            resolved: (code & 1) !== 0,
            caseKey: f[4] === undefined || f[4] === '' ? null : f[4],
          };
        });
  // The shape of a CustomerState by construction; its values are checked next.
  const candidate = { customerId, asOf, registeredAt, consent, nps, seenAt, erasedAt, past, orders, interactions, memberships } as unknown as CustomerState;
  if (satisfiesSchema(candidate)) return candidate;
  const parsed = CustomerStateSchema.safeParse(candidate);
  if (!parsed.success)
    throw new StateDecodeError(
      `corrupt state: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  // Unreachable while satisfiesSchema is exact (codec.test.ts); a stricter check only costs time.
  /* c8 ignore next */
  return parsed.data as CustomerState;
}
