/**
 * Admission: what an event valid by its schema must also satisfy before it may change state.
 * The schema accepts any year from 1970 to 9999 and cannot see the Kafka key; both let one
 * record do lasting harm:
 *
 * - the key decides the partition, and a customer's state lives in one partition: a record
 *   without a key, or keyed by someone else, lands beside other customers' events and would
 *   give its customer a second, partial state there;
 * - an event dated far ahead moves its customer (and, on the stream clock, which the whole
 *   deployment shares, every customer) into that future: one order dated 9999 made 15 bogus
 *   changes.
 *
 * Refused records are dead-lettered with one of the reasons below. The checks are pure: the
 * caller supplies the reference instant (docs/segmentation.md, "Event-time bounds"; the
 * segmenter's is the wall clock, or on the stream clock the later of the wall clock and the
 * deployment's stream clock).
 */
import { DecodeError } from './errors.ts';

/** Default floor of event times: nothing this project segments predates 2000. */
export const DEFAULT_MIN_EVENT_TIME = '2000-01-01T00:00:00Z';
/** Default allowance ahead of the reference clock: one day covers clock skew and time zones gone wrong, not years. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 86_400_000;

export interface EventTimeBounds {
  /** Earliest accepted event time, ms since the epoch. */
  readonly minEventTime: number;
  /** How far an event time may lie ahead of the reference instant, ms. */
  readonly maxFutureSkewMs: number;
}

export type EventTimeRefusal = 'event_time_future' | 'event_time_too_old';

/** Why an event at `time` (ms) is refused against `reference` (ms), or null when it is admitted. */
export function eventTimeRefusal(time: number, bounds: EventTimeBounds, reference: number): EventTimeRefusal | null {
  if (time < bounds.minEventTime) return 'event_time_too_old';
  if (time > reference + bounds.maxFutureSkewMs) return 'event_time_future';
  return null;
}

/**
 * The DecodeError refusing a decoded event of `topic` read from a record with `key`, or null
 * when it is admitted. `reference` is the instant "the future" is measured from (ms).
 */
export function admissionError(
  topic: string,
  event: { readonly subject: string; readonly time: string },
  key: Buffer | null,
  bounds: EventTimeBounds,
  reference: number,
): DecodeError | null {
  if (key === null || key.length === 0) {
    return new DecodeError('key_missing', `the record has no key; it must be the customer id "${event.subject}"`, { topic, field: 'subject' });
  }
  // Bytes, not text: the partitioner hashed the key's bytes, and a key that is not UTF-8 would
  // decode to replacement characters that a subject could spell.
  if (!key.equals(Buffer.from(event.subject, 'utf8'))) {
    return new DecodeError('key_mismatch', `subject "${event.subject}" differs from the record key "${cutKey(key.toString('utf8'))}"`, {
      topic,
      field: 'subject',
    });
  }
  const time = Date.parse(event.time);
  const refusal = eventTimeRefusal(time, bounds, reference);
  if (refusal === null) return null;
  const message =
    refusal === 'event_time_too_old'
      ? `time ${event.time} is before the floor ${new Date(bounds.minEventTime).toISOString()}`
      : `time ${event.time} is more than ${bounds.maxFutureSkewMs} ms ahead of the reference clock ${new Date(reference).toISOString()}`;
  return new DecodeError(refusal, message, { topic, field: 'time' });
}

/** A key quoted in a message: at most 128 characters (the message has its own limit). */
function cutKey(s: string): string {
  return s.length <= 128 ? s : `${s.slice(0, 127)}…`;
}
