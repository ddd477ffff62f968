/**
 * The contract errors. A DecodeError is a property of the input (never retriable: the record
 * goes to the dead-letter topic and is returned as a value, not thrown). A RegistryError is the
 * schema registry failing (thrown; retriable unless the registry rejected our own schema). An
 * EncodeError is our own code producing an event that breaks its contract (thrown; a bug).
 */

/** Why an input record could not be decoded. */
export const DECODE_REASONS = [
  /** The value is null (tombstone), zero bytes, or whitespace only. */
  'empty',
  /** Neither Confluent wire format (first byte 0x00) nor JSON (first non-blank byte '{'). */
  'unknown_format',
  /** Wire format shorter than its 5-byte header, or an Avro body that ends early. */
  'truncated',
  /** The schema id in the wire header is not known to the registry (HTTP 404). */
  'unknown_schema',
  /** The schema id exists but cannot be used: not Avro, or not readable into this topic's schema. */
  'unsupported_schema',
  /** Wire-format input arrived and no schema registry is configured. */
  'no_registry',
  /** The Avro body does not decode with its writer schema (trailing bytes, bad union index...). */
  'avro_invalid',
  /** The bytes start like JSON but are not valid UTF-8 JSON. */
  'json_invalid',
  /** A required field is absent. `field` names it. */
  'missing_field',
  /** A field has the wrong type or breaks a constraint (range, length, format). `field` names it. */
  'invalid_field',
  /** The record is an event of another topic (Avro record name or CloudEvents type). */
  'wrong_topic',
  // Valid by schema but refused (admission.ts): accepting them would corrupt state.
  /** The record has no key (or an empty one): it was partitioned apart from its customer's other events. */
  'key_missing',
  /** The record's key is not the event's subject: it sits in another customer's partition. */
  'key_mismatch',
  /** The event time is further ahead of the reference clock than the allowed skew (CRM_MAX_FUTURE_SKEW_MS). */
  'event_time_future',
  /** The event time is before the floor (CRM_MIN_EVENT_TIME). */
  'event_time_too_old',
] as const;
export type DecodeReason = (typeof DECODE_REASONS)[number];

/** One validation problem, located by a dotted path ('data.amountMinor', 'subject'). */
export interface DecodeIssue {
  readonly field: string;
  readonly message: string;
}

export interface DecodeErrorOptions {
  readonly topic: string;
  /** Dotted path of the offending field, when one applies. */
  readonly field?: string | null;
  /** Every validation issue (the first one is `field`); empty for non-validation reasons. */
  readonly issues?: readonly DecodeIssue[];
  /** The Confluent schema id of the record, when it was in wire format. */
  readonly schemaId?: number | null;
  readonly cause?: unknown;
}

/** An input record that cannot be accepted: dead-letter it. Never retriable. */
export class DecodeError extends Error {
  declare readonly reason: DecodeReason;
  declare readonly field: string | null;
  declare readonly topic: string;
  declare readonly issues: readonly DecodeIssue[];
  declare readonly schemaId: number | null;
  declare readonly retriable: false;

  constructor(reason: DecodeReason, message: string, options: DecodeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DecodeError';
    this.reason = reason;
    this.field = options.field ?? null;
    this.topic = options.topic;
    this.issues = options.issues ?? [];
    this.schemaId = options.schemaId ?? null;
    this.retriable = false;
  }
}

/** The schema registry failed. Retriable unless it rejected our request as invalid (e.g. an incompatible schema). */
export class RegistryError extends Error {
  declare readonly retriable: boolean;
  /** HTTP status of the registry's answer; null when no answer came (connection refused, timeout). */
  declare readonly status: number | null;
  /** The subject or schema id the request was about. */
  declare readonly target: string;

  constructor(message: string, options: { retriable: boolean; status: number | null; target: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.retriable = options.retriable;
    this.status = options.status;
    this.target = options.target;
  }
}

/** An outgoing event breaks its topic's contract: a bug in the producer of the event. Not retriable. */
export class EncodeError extends Error {
  declare readonly topic: string;
  declare readonly field: string | null;
  declare readonly issues: readonly DecodeIssue[];
  declare readonly retriable: false;

  constructor(message: string, options: { topic: string; field: string | null; issues: readonly DecodeIssue[]; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EncodeError';
    this.topic = options.topic;
    this.field = options.field;
    this.issues = options.issues;
    this.retriable = false;
  }
}
