/**
 * The benchmark's input: realistic customer histories from @crm/sample-data (BG/NBD purchases,
 * gamma-gamma spend, refunds, service contacts), encoded the way producers in production do
 * (Avro, Confluent wire format, schemas from the registry). Switching the generator is one
 * line in `inputEvents`.
 */
import { type InputEvent, type InputTopic, type RegistryClient, TOPICS, avroType, schemaIdFor } from '@crm/contracts';
import { streamEvents } from '@crm/sample-data';

/** Events per customer the sample-data defaults give (measured: ~3.6); sizes the population for a wanted event count. */
const EVENTS_PER_CUSTOMER = 3.5;

/**
 * At most `count` events, in event-time order, for customers whose ids start with `idPrefix`,
 * over the `days` before `end` (ms).
 */
export function* inputEvents(o: { count: number; seed: number; idPrefix: string; end: number; days: number }): Generator<InputEvent> {
  const customers = Math.ceil(o.count / EVENTS_PER_CUSTOMER);
  let n = 0;
  for (const e of streamEvents({ seed: o.seed, customers, idPrefix: o.idPrefix, start: o.end - o.days * 86_400_000, days: o.days })) {
    if (n++ >= o.count) return;
    yield e;
  }
}

/** The contract topic an event belongs on. */
export function topicOf(e: InputEvent): InputTopic {
  if (e.type.startsWith('commerce.')) return TOPICS.orders;
  if (e.type.startsWith('service.')) return TOPICS.interactions;
  return TOPICS.profiles;
}

export type Encoder = (topic: InputTopic, e: InputEvent) => Buffer;

/**
 * An Avro (Confluent wire format) encoder with the schema ids looked up once. The events come
 * from a generator that keeps the contracts, so the zod check of encodeOutput is skipped here
 * (the segmenter still validates every record it reads).
 */
export async function avroEncoder(registry: RegistryClient): Promise<Encoder> {
  const ids = new Map<InputTopic, number>();
  for (const t of [TOPICS.orders, TOPICS.interactions, TOPICS.profiles] as const) ids.set(t, await schemaIdFor(registry, t));
  return (topic, e) => {
    const body = avroType(topic).toBuffer(e);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(ids.get(topic) as number, 1);
    return Buffer.concat([header, body]);
  };
}
