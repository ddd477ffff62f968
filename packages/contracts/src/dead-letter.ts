/**
 * Builds the dead-letter event for an input record that failed to decode, keeping its bytes,
 * headers and coordinates so it can be inspected and re-driven. The result always satisfies
 * the DeadLetterEvent contract (long texts are cut to their limits) and is bounded in size:
 * a record of any size (up to the broker's limit) must still make a dead letter the broker
 * accepts, or its partition could never move past it.
 *
 * The bound: at most MAX_KEPT_BYTES of the record's key, headers and value are kept (the key
 * first, up to MAX_KEPT_KEY_BYTES; then whole headers in order, up to MAX_KEPT_HEADER_BYTES;
 * then the value's first bytes). What does not fit is cut, and the letter says so: `truncated`
 * is true, `sha256` and `size` describe the original value, the coordinates locate the
 * original record (still in its topic until retention removes it).
 */
import { createHash } from 'node:crypto';
import type { DecodeError } from './errors.ts';
import { type DeadLetterEvent, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from './events.ts';

/** Longest dead-letter message the contract allows. */
const MAX_MESSAGE_LENGTH = 4096;
/**
 * Raw bytes of key, headers and value a dead letter keeps at most. Base64 adds a third, so a
 * letter stays under ~350 KB whatever it wraps: well below the broker's default
 * max.message.bytes (1 MiB) for a request of one letter, and a few letters share a request.
 */
export const MAX_KEPT_BYTES = 256 * 1024;
/** Key bytes kept at most: a customer id has at most 128 characters, a longer key is not one. */
export const MAX_KEPT_KEY_BYTES = 1024;
/** Header bytes (names and values) kept at most; a header that does not fit whole is dropped. */
export const MAX_KEPT_HEADER_BYTES = 16 * 1024;
/** Subject used when the record's key is not a usable customer id (absent, not UTF-8, too long). */
export const UNKNOWN_SUBJECT = 'unknown';

/** A consumed record as kafkajs hands it over (headers: kafkajs IHeaders). */
export interface FailedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;
  /** Record timestamp, ms since epoch as a string (kafkajs `message.timestamp`). */
  readonly timestamp?: string;
}

export interface DeadLetterOptions {
  /** CloudEvents source of the dead-lettering service, e.g. 'urn:crm:segmenter'. */
  readonly source: string;
  /** When the record was dead-lettered, ISO-8601 UTC. */
  readonly time: string;
  /** Raw bytes kept at most (default MAX_KEPT_BYTES). */
  readonly maxKeptBytes?: number;
}

/**
 * The dead-letter event of `record`. Its id is derived from the record's coordinates, so
 * dead-lettering the same record twice (after a redelivery) yields the same event id.
 */
export function toDeadLetter(record: FailedRecord, error: Pick<DecodeError, 'reason' | 'field' | 'message'>, options: DeadLetterOptions): DeadLetterEvent {
  const id = `dl-${createHash('sha256').update(`${record.topic}\u0000${record.partition}\u0000${record.offset}`).digest('hex')}`;
  const { key, value } = record;
  const keptKey = deadLetterKey(key);
  const headers = keptHeaders(record.headers ?? {});
  const valueBudget = Math.max(0, (options.maxKeptBytes ?? MAX_KEPT_BYTES) - (keptKey?.length ?? 0) - headers.bytes);
  const keptValue = value === null || value.length <= valueBudget ? value : value.subarray(0, valueBudget);
  const truncated = keptKey !== key || headers.dropped || keptValue !== value;
  return {
    specversion: '1.0',
    id,
    source: options.source,
    type: 'crm.dead-lettered',
    time: options.time,
    subject: subjectOf(key),
    data: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      keyBase64: keptKey === null ? null : keptKey.toString('base64'),
      valueBase64: keptValue === null ? null : keptValue.toString('base64'),
      headers: headers.kept,
      reason: cut(error.reason, MAX_TEXT_LENGTH),
      field: error.field === null ? null : cut(error.field, MAX_TEXT_LENGTH),
      message: cut(error.message, MAX_MESSAGE_LENGTH),
      recordTimestamp: record.timestamp !== undefined && /^\d+$/.test(record.timestamp) ? record.timestamp : null,
      truncated,
      sha256: value === null ? null : createHash('sha256').update(value).digest('hex'),
      size: value === null ? null : value.length,
    },
  };
}

/**
 * Most bytes (keys and values) per dead-letter produce request: half the broker's default
 * max.message.bytes (1 MiB), leaving room for record overhead; a single letter larger than
 * this (at most ~350 KB) goes alone.
 */
export const DEAD_LETTER_REQUEST_BYTES = 512 * 1024;

/** Splits messages, in order, into runs of at most `maxBytes` of keys and values (a larger message forms its own run). */
export function chunkByBytes<M extends { readonly key?: Buffer | string | null; readonly value: Buffer | string | null }>(
  messages: readonly M[],
  maxBytes: number,
): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = byteLength(m.key) + byteLength(m.value);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(b: Buffer | string | null | undefined): number {
  if (b === null || b === undefined) return 0;
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

/** The key a dead letter keeps (and is produced with): the record's key, cut to MAX_KEPT_KEY_BYTES. */
export function deadLetterKey(key: Buffer | null): Buffer | null {
  return key === null || key.length <= MAX_KEPT_KEY_BYTES ? key : key.subarray(0, MAX_KEPT_KEY_BYTES);
}

function subjectOf(key: Buffer | null): string {
  if (key === null || key.length === 0) return UNKNOWN_SUBJECT;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(key);
  } catch {
    return UNKNOWN_SUBJECT;
  }
  return text.length <= MAX_ID_LENGTH ? text : UNKNOWN_SUBJECT;
}

/** The headers in record order, values base64, whole ones only while they fit MAX_KEPT_HEADER_BYTES. */
function keptHeaders(headers: NonNullable<FailedRecord['headers']>): { kept: DeadLetterEvent['data']['headers']; bytes: number; dropped: boolean } {
  const kept: DeadLetterEvent['data']['headers'] = [];
  let bytes = 0;
  let dropped = false;
  for (const [key, value] of Object.entries(headers)) {
    const values = value === undefined ? [undefined] : Array.isArray(value) ? value : [value as Buffer | string];
    for (const v of values) {
      const raw = v === undefined ? null : Buffer.from(v);
      const size = Buffer.byteLength(key) + (raw?.length ?? 0);
      if (bytes + size > MAX_KEPT_HEADER_BYTES) {
        dropped = true;
        continue;
      }
      bytes += size;
      kept.push({ key, value: raw === null ? null : raw.toString('base64') });
    }
  }
  return { kept, bytes, dropped };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
