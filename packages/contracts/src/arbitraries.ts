/**
 * fast-check arbitraries that generate valid events of every topic, shaped after the zod
 * contracts in events.ts (same bounds, formats and nullability). For property tests here and
 * in the packages that consume events; exported through '@crm/contracts/testing'.
 */
import fc from 'fast-check';
import {
  type DeadLetterEvent,
  DIMENSIONS,
  INTERACTION_CHANNELS,
  INTERACTION_REASONS,
  INTERACTION_TYPES,
  type InteractionEvent,
  MAX_AMOUNT_MINOR,
  MAX_ID_LENGTH,
  MAX_TEXT_LENGTH,
  ORDER_TYPES,
  type OrderEvent,
  PROFILE_TYPES,
  type ProfileEvent,
  RESOLUTIONS,
  type SegmentChangeEvent,
  TOPICS,
} from './events.ts';
import type { EventOf, Topic } from './topics.ts';

/** A non-empty string of at most `max` UTF-16 code units: mostly short and any Unicode, sometimes exactly `max` ASCII chars. */
export function boundedText(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).filter((s) => s.length <= max) },
    { weight: 1, arbitrary: fc.string({ minLength: max, maxLength: max }) },
  );
}

export const idArb: fc.Arbitrary<string> = boundedText(MAX_ID_LENGTH);
export const textArb: fc.Arbitrary<string> = boundedText(MAX_TEXT_LENGTH);

/** ISO-8601 UTC instants between 1970 and 9999, with or without milliseconds. */
export const isoTimeArb: fc.Arbitrary<string> = fc
  .tuple(fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.boolean())
  .map(([d, millis]) => (millis ? d.toISOString() : d.toISOString().replace(/\.\d{3}Z$/, 'Z')));

export const currencyArb: fc.Arbitrary<string> = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 3, maxLength: 3 });

/** 0..MAX_AMOUNT_MINOR, biased to the bounds. */
export const amountMinorArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, MAX_AMOUNT_MINOR),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.bigInt({ min: 0n, max: BigInt(MAX_AMOUNT_MINOR) }).map(Number),
);

/** A Kafka offset or timestamp as decimal digits (any 63-bit value). */
export const digitsArb: fc.Arbitrary<string> = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String);

const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null });

const envelope = { specversion: fc.constant('1.0' as const), id: idArb, source: textArb, time: isoTimeArb, subject: idArb };

export const orderEventArb: fc.Arbitrary<OrderEvent> = fc.record({
  ...envelope,
  type: fc.constantFrom(...ORDER_TYPES),
  data: fc.record({
    orderId: idArb,
    amountMinor: amountMinorArb,
    currency: currencyArb,
    itemCount: fc.integer({ min: 0, max: 100_000 }),
    channel: textArb,
    storeId: nullable(textArb),
  }),
});

export const interactionEventArb: fc.Arbitrary<InteractionEvent> = fc.record({
  ...envelope,
  type: fc.constantFrom(...INTERACTION_TYPES),
  data: fc.record({
    interactionId: idArb,
    caseId: nullable(idArb),
    channel: fc.constantFrom(...INTERACTION_CHANNELS),
    reason: fc.constantFrom(...INTERACTION_REASONS),
    resolution: fc.constantFrom(...RESOLUTIONS),
    handleTimeSeconds: fc.integer({ min: 0, max: 7 * 24 * 3600 }),
    csat: nullable(fc.integer({ min: 1, max: 5 })),
    nps: nullable(fc.integer({ min: 0, max: 10 })),
  }),
});

export const profileEventArb: fc.Arbitrary<ProfileEvent> = fc.record({
  ...envelope,
  type: fc.constantFrom(...PROFILE_TYPES),
  data: fc.record({ signupChannel: nullable(textArb), marketingConsent: nullable(fc.boolean()) }),
});

export const segmentChangeEventArb: fc.Arbitrary<SegmentChangeEvent> = fc.record({
  ...envelope,
  type: fc.constant('crm.segment.changed' as const),
  data: fc.record({
    dimension: fc.constantFrom(...DIMENSIONS),
    segment: nullable(textArb),
    from: nullable(textArb),
    to: nullable(textArb),
    reason: boundedText(512),
    cause: fc.record({
      kind: fc.constantFrom('event' as const, 'timer' as const, 'rescore' as const),
      topic: nullable(textArb),
      partition: nullable(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      offset: nullable(digitsArb),
      eventId: nullable(idArb),
      dueAt: nullable(isoTimeArb),
    }),
  }),
});

const base64Arb = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));

export const deadLetterEventArb: fc.Arbitrary<DeadLetterEvent> = fc.record({
  ...envelope,
  type: fc.constant('crm.dead-lettered' as const),
  data: fc.record({
    topic: textArb,
    partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    offset: digitsArb,
    keyBase64: nullable(base64Arb),
    valueBase64: nullable(base64Arb),
    headers: fc.array(fc.record({ key: fc.string(), value: nullable(base64Arb) }), { maxLength: 4 }),
    reason: textArb,
    field: nullable(fc.string({ maxLength: MAX_TEXT_LENGTH })),
    message: fc.string({ maxLength: 200 }),
    recordTimestamp: nullable(digitsArb),
    truncated: nullable(fc.boolean()),
    sha256: nullable(fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))),
    size: nullable(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
  }),
});

const byTopic: { readonly [T in Topic]: fc.Arbitrary<EventOf<T>> } = {
  [TOPICS.orders]: orderEventArb,
  [TOPICS.interactions]: interactionEventArb,
  [TOPICS.profiles]: profileEventArb,
  [TOPICS.segmentChanges]: segmentChangeEventArb,
  [TOPICS.deadLetter]: deadLetterEventArb,
};

/** Valid events of `topic`. */
export function eventArb<T extends Topic>(topic: T): fc.Arbitrary<EventOf<T>> {
  return byTopic[topic];
}

/** A topic and a valid event of it, over every topic. */
export const topicEventArb: fc.Arbitrary<{ topic: Topic; event: EventOf<Topic> }> = fc.oneof(
  ...(Object.keys(byTopic) as Topic[]).map((topic) => byTopic[topic].map((event) => ({ topic, event }) as { topic: Topic; event: EventOf<Topic> })),
);
