/**
 * Which contract belongs to which topic: the zod schema, the CloudEvents types it carries and
 * the schema-registry subject. One table, so a topic cannot be half-wired.
 */
import type { z } from 'zod';
import {
  DeadLetterEvent,
  INTERACTION_TYPES,
  InteractionEvent,
  ORDER_TYPES,
  OrderEvent,
  PROFILE_TYPES,
  ProfileEvent,
  SegmentChangeEvent,
  TOPICS,
} from './events.ts';

/** Every topic with a contract. */
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];
export const ALL_TOPICS: readonly Topic[] = Object.values(TOPICS);

/** The zod schema of each topic's events. */
export const EVENT_SCHEMAS = {
  [TOPICS.orders]: OrderEvent,
  [TOPICS.interactions]: InteractionEvent,
  [TOPICS.profiles]: ProfileEvent,
  [TOPICS.segmentChanges]: SegmentChangeEvent,
  [TOPICS.deadLetter]: DeadLetterEvent,
} as const satisfies Record<Topic, z.ZodType>;

/** The event type carried by `T`'s topic. */
export type EventOf<T extends Topic> = z.infer<(typeof EVENT_SCHEMAS)[T]>;

/** The CloudEvents `type` values each topic carries (used to tell a wrong topic from a bad type). */
export const EVENT_TYPES: { readonly [T in Topic]: readonly string[] } = {
  [TOPICS.orders]: ORDER_TYPES,
  [TOPICS.interactions]: INTERACTION_TYPES,
  [TOPICS.profiles]: PROFILE_TYPES,
  [TOPICS.segmentChanges]: ['crm.segment.changed'],
  [TOPICS.deadLetter]: ['crm.dead-lettered'],
};

/** The topic whose events carry CloudEvents type `type`, if any. */
export function topicOfType(type: string): Topic | undefined {
  return ALL_TOPICS.find((t) => EVENT_TYPES[t].includes(type));
}

export function isTopic(s: string): s is Topic {
  return (ALL_TOPICS as readonly string[]).includes(s);
}

/** Schema-registry subject of a topic's record values (Confluent TopicNameStrategy). */
export function subjectOf<T extends Topic>(topic: T): `${T}-value` {
  return `${topic}-value`;
}
