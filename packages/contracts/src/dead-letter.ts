/**
 * Builds the dead-letter event for an input record that failed to decode, keeping its bytes,
 * headers and coordinates so it can be inspected and re-driven. The result always satisfies
 * the DeadLetterEvent contract (long texts are cut to their limits).
 */
import { createHash } from 'node:crypto';
import type { DecodeError } from './errors.ts';
import { type DeadLetterEvent, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from './events.ts';

/** Longest dead-letter message the contract allows. */
const MAX_MESSAGE_LENGTH = 4096;
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
}

/**
 * The dead-letter event of `record`. Its id is derived from the record's coordinates, so
 * dead-lettering the same record twice (after a redelivery) yields the same event id.
 */
export function toDeadLetter(record: FailedRecord, error: Pick<DecodeError, 'reason' | 'field' | 'message'>, options: DeadLetterOptions): DeadLetterEvent {
  const id = `dl-${createHash('sha256').update(`${record.topic}\u0000${record.partition}\u0000${record.offset}`).digest('hex')}`;
  return {
    specversion: '1.0',
    id,
    source: options.source,
    type: 'crm.dead-lettered',
    time: options.time,
    subject: subjectOf(record.key),
    data: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      keyBase64: record.key === null ? null : record.key.toString('base64'),
      valueBase64: record.value === null ? null : record.value.toString('base64'),
      headers: flattenHeaders(record.headers ?? {}),
      reason: cut(error.reason, MAX_TEXT_LENGTH),
      field: error.field === null ? null : cut(error.field, MAX_TEXT_LENGTH),
      message: cut(error.message, MAX_MESSAGE_LENGTH),
      recordTimestamp: record.timestamp !== undefined && /^\d+$/.test(record.timestamp) ? record.timestamp : null,
    },
  };
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

function flattenHeaders(headers: NonNullable<FailedRecord['headers']>): DeadLetterEvent['data']['headers'] {
  const out: DeadLetterEvent['data']['headers'] = [];
  for (const [key, value] of Object.entries(headers)) {
    const values = value === undefined ? [undefined] : Array.isArray(value) ? value : [value as Buffer | string];
    for (const v of values) out.push({ key, value: v === undefined ? null : Buffer.from(v).toString('base64') });
  }
  return out;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
