/**
 * The event contracts of every topic, as zod schemas with inferred types.
 *
 * They mirror the Avro schemas under /schemas (the source of truth; a test proves that
 * both accept and reject the same events). Every event is a CloudEvents 1.0 event in
 * structured mode: the envelope attributes sit beside `data`. The customer id is the
 * CloudEvents `subject` and the Kafka key.
 */
import { z } from 'zod';

/** Longest id we accept (event ids, order ids, customer ids): keeps state small and bounded. */
export const MAX_ID_LENGTH = 128;
/** Longest free-text attribute (source, channel, store id). */
export const MAX_TEXT_LENGTH = 256;
/** Largest single amount in minor units: 10^12 (ten billion in a two-decimal currency). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * True when `s` is an ISO-8601 UTC timestamp naming a real instant (no Feb 30, no hour 24):
 * `YYYY-MM-DDTHH:mm:ss`, an optional fraction of 1-9 digits, `Z`; years 1970-9999.
 */
export function isIsoUtc(s: string): boolean {
  return !Number.isNaN(isoUtcMillis(s));
}

/**
 * The epoch milliseconds of `s` (a fraction beyond milliseconds cut off, as Date.parse does)
 * when isIsoUtc(s), else NaN. Runs for every time of every event in and out, so it reads the
 * characters themselves: no regex match, no Date.
 */
export function isoUtcMillis(s: string): number {
  const n = s.length;
  // 20 characters without a fraction, 22-30 with one.
  if (n < 20 || n === 21 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return Number.NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Number.NaN; // - - T : :
  let ms = 0;
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */) return Number.NaN;
    const fraction = decimal(s, 20, n - 1);
    if (fraction < 0) return Number.NaN;
    ms = n - 1 <= 23 ? fraction * 10 ** (23 - (n - 1)) : decimal(s, 20, 23);
  }
  const y = decimal(s, 0, 4);
  const mo = decimal(s, 5, 7);
  const d = decimal(s, 8, 10);
  const h = decimal(s, 11, 13);
  const mi = decimal(s, 14, 16);
  const sec = decimal(s, 17, 19);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return Number.NaN;
  const leapDay = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  if (d > (DAYS_IN_MONTH[mo - 1] as number) + leapDay) return Number.NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/** The decimal number in `s` from `start` to `end` (exclusive), or -1 when a character there is not a digit. */
function decimal(s: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const digit = s.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    v = v * 10 + digit;
  }
  return v;
}

export const id = z.string().min(1).max(MAX_ID_LENGTH);
export const text = z.string().min(1).max(MAX_TEXT_LENGTH);
export const isoTime = z.string().max(40).refine(isIsoUtc, { message: 'must be an ISO-8601 UTC timestamp of a real instant, e.g. 2026-01-31T12:00:00Z' });
export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code of three capital letters');
export const amountMinor = z.number().int().min(0).max(MAX_AMOUNT_MINOR);

/** CloudEvents 1.0 attributes shared by every event. */
const envelope = {
  specversion: z.literal('1.0'),
  id,
  source: text,
  time: isoTime,
  subject: id,
};

// ---------------------------------------------------------------- commerce.orders.v1

export const ORDER_TYPES = ['commerce.order.completed', 'commerce.order.refunded', 'commerce.order.cancelled'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

export const OrderData = z.object({
  orderId: id,
  /**
   * completed: the order's amount; refunded: the CUMULATIVE amount refunded on this order so
   * far (so a later refund event supersedes an earlier one whatever their arrival order);
   * cancelled: the amount cancelled (informational; a cancellation voids the whole order).
   */
  amountMinor,
  currency,
  itemCount: z.number().int().min(0).max(100_000),
  channel: text,
  storeId: text.nullable(),
});
export type OrderData = z.infer<typeof OrderData>;

export const OrderEvent = z.object({ ...envelope, type: z.enum(ORDER_TYPES), data: OrderData });
export type OrderEvent = z.infer<typeof OrderEvent>;

// ---------------------------------------------------------------- service.interactions.v1

export const INTERACTION_CHANNELS = ['phone', 'email', 'chat', 'store', 'social', 'other'] as const;
export const INTERACTION_REASONS = ['inquiry', 'order_issue', 'billing', 'technical', 'complaint', 'compliment', 'other'] as const;
export const RESOLUTIONS = ['resolved', 'unresolved', 'escalated', 'pending'] as const;
export type InteractionReason = (typeof INTERACTION_REASONS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];

export const InteractionData = z.object({
  interactionId: id,
  /** Groups follow-ups of one case (e.g. a complaint); defaults to the interaction id when null. */
  caseId: id.nullable(),
  channel: z.enum(INTERACTION_CHANNELS),
  reason: z.enum(INTERACTION_REASONS),
  resolution: z.enum(RESOLUTIONS),
  handleTimeSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600),
  csat: z.number().int().min(1).max(5).nullable(),
  nps: z.number().int().min(0).max(10).nullable(),
});
export type InteractionData = z.infer<typeof InteractionData>;

export const INTERACTION_TYPES = ['service.interaction.recorded'] as const;
export const InteractionEvent = z.object({ ...envelope, type: z.enum(INTERACTION_TYPES), data: InteractionData });
export type InteractionEvent = z.infer<typeof InteractionEvent>;

// ---------------------------------------------------------------- customer.profiles.v1

export const PROFILE_TYPES = ['customer.registered', 'customer.consent.changed', 'customer.erasure.requested'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

export const ProfileData = z.object({
  /** registered: the sign-up channel; null otherwise. */
  signupChannel: text.nullable(),
  /** consent.changed: the new marketing consent; null otherwise. */
  marketingConsent: z.boolean().nullable(),
});
export type ProfileData = z.infer<typeof ProfileData>;

export const ProfileEvent = z.object({ ...envelope, type: z.enum(PROFILE_TYPES), data: ProfileData });
export type ProfileEvent = z.infer<typeof ProfileEvent>;

/** Any input event the segmenter consumes. */
export type InputEvent = OrderEvent | InteractionEvent | ProfileEvent;

// ---------------------------------------------------------------- crm.segment-changes.v1

export const DIMENSIONS = ['rfm_segment', 'stage', 'tier', 'satisfaction', 'expectation_gap', 'quadrant', 'custom'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const ChangeCause = z.object({
  /** 'event': an input event moved the customer; 'timer': time alone did; 'rescore': new quantile cuts did. */
  kind: z.enum(['event', 'timer', 'rescore']),
  topic: text.nullable(),
  partition: z.number().int().min(0).nullable(),
  offset: z.string().regex(/^\d+$/).nullable(),
  eventId: id.nullable(),
  /** For timers: the instant the customer was due. */
  dueAt: isoTime.nullable(),
});
export type ChangeCause = z.infer<typeof ChangeCause>;

export const SegmentChangeData = z.object({
  dimension: z.enum(DIMENSIONS),
  /** For 'custom': the user-defined segment's name; null otherwise. */
  segment: text.nullable(),
  from: text.nullable(),
  to: text.nullable(),
  /** Which rule or threshold decided `to`, e.g. 'recency_days>90'. */
  reason: z.string().min(1).max(512),
  cause: ChangeCause,
});
export type SegmentChangeData = z.infer<typeof SegmentChangeData>;

export const SegmentChangeEvent = z.object({ ...envelope, type: z.literal('crm.segment.changed'), data: SegmentChangeData });
export type SegmentChangeEvent = z.infer<typeof SegmentChangeEvent>;

// ---------------------------------------------------------------- crm.dead-letter.v1

export const DeadLetterHeader = z.object({ key: z.string(), value: z.string().nullable() });

export const DeadLetterData = z.object({
  topic: text,
  partition: z.number().int().min(0),
  offset: z.string().regex(/^\d+$/),
  /** Original key and value, base64 (null when the record had none). */
  keyBase64: z.string().nullable(),
  valueBase64: z.string().nullable(),
  /** Original headers; values base64. */
  headers: z.array(DeadLetterHeader),
  /** Machine-readable reason code, e.g. 'invalid_field', 'unknown_schema', 'truncated'. */
  reason: text,
  /** The field that failed, as a dotted path, when one is known. */
  field: z.string().max(MAX_TEXT_LENGTH).nullable(),
  message: z.string().max(4096),
  /** Original record timestamp (ms since epoch, as a string). */
  recordTimestamp: z.string().regex(/^\d+$/).nullable(),
  // Added after v1's first release: nullable with a null default, so letters written without
  // them (Avro by the older schema, or JSON) still read; null there means "not recorded".
  /**
   * true: the record was too large to keep whole in a bounded dead letter, and the key, value
   * or headers hold only their first bytes (sha256 and size describe the original value); such
   * a letter cannot be re-driven. false: the record is kept whole.
   */
  truncated: z.boolean().nullable().default(null),
  /** SHA-256 of the original value, 64 lowercase hex digits; null when the record had no value. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .default(null),
  /** Size of the original value in bytes; null when the record had no value. */
  size: z.number().int().min(0).nullable().default(null),
});
export type DeadLetterData = z.infer<typeof DeadLetterData>;

export const DeadLetterEvent = z.object({ ...envelope, type: z.literal('crm.dead-lettered'), data: DeadLetterData });
export type DeadLetterEvent = z.infer<typeof DeadLetterEvent>;

/** Topic names, in one place. */
export const TOPICS = {
  orders: 'commerce.orders.v1',
  interactions: 'service.interactions.v1',
  profiles: 'customer.profiles.v1',
  segmentChanges: 'crm.segment-changes.v1',
  deadLetter: 'crm.dead-letter.v1',
} as const;
/**
 * The topic names with `suffix` appended (CRM_TOPIC_SUFFIX): tests and parallel environments
 * sharing one broker each get their own topics.
 */
export function suffixedTopics(suffix: string): Record<keyof typeof TOPICS, string> {
  return Object.fromEntries(Object.entries(TOPICS).map(([key, topic]) => [key, `${topic}${suffix}`])) as Record<keyof typeof TOPICS, string>;
}
export const INPUT_TOPICS = [TOPICS.orders, TOPICS.interactions, TOPICS.profiles] as const;
export type InputTopic = (typeof INPUT_TOPICS)[number];
