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

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * True when `s` is an ISO-8601 UTC timestamp naming a real instant (no Feb 30, no hour 24).
 * Runs for every time of every event in and out: no Date and no array per call.
 */
export function isIsoUtc(s: string): boolean {
  const m = ISO_UTC.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  const leapDay = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  return d <= (DAYS_IN_MONTH[mo - 1] as number) + leapDay;
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
