/**
 * The dead-letter path of a partition: records refused by decoding or admission go to the
 * dead-letter topic before the commit that moves the fence past them, and are counted once
 * that commit succeeded.
 *
 * What keeps a partition moving whatever the records:
 * - each letter is bounded (toDeadLetter keeps at most MAX_KEPT_BYTES of the record, ~350 KB
 *   encoded), and letters go out in requests of at most REQUEST_BYTES, so no produce request
 *   exceeds the broker's max.message.bytes (1 MiB by default) however many bad records a batch
 *   holds (1,000 bad 1 KiB records once made one 1.4 MB request, refused, retried forever);
 * - a letter is keyed by the record's key cut to MAX_KEPT_KEY_BYTES, never by a huge key.
 *
 * Counting: a unit that fails after its letters went out is fetched and dead-lettered again
 * (same deterministic letter id, so consumers can drop the repeat), but the metric counts a
 * record when the fence moves past it, which happens once.
 */
import { type DecodeError, type RegistryClient, TOPICS, deadLetterKey, encodeOutputs, toDeadLetter } from '@crm/contracts';
import type { KafkaMessage, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

/**
 * Most bytes (keys and values) per dead-letter produce request: half the broker's default
 * max.message.bytes, leaving room for record overhead; a single letter larger than this (at
 * most ~350 KB) goes alone.
 */
export const REQUEST_BYTES = 512 * 1024;

/** A record refused by decoding or admission, with why. */
export interface Refused {
  message: KafkaMessage;
  error: DecodeError;
}

export interface DeadLetterDeps {
  producer: Producer;
  registry: RegistryClient | undefined;
  metrics: Metrics;
  log: Logger;
  /** The dead-letter topic's actual name. */
  topic: string;
  /** CloudEvents source of the letters. */
  source: string;
}

/** Splits messages, in order, into runs of at most `maxBytes` of keys and values (a larger message forms its own run). */
export function chunkByBytes<M extends Pick<Message, 'key' | 'value'>>(messages: readonly M[], maxBytes: number): M[][] {
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

function byteLength(b: Message['key'] | Message['value']): number {
  if (b === null || b === undefined) return 0;
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

export class DeadLetters {
  private readonly deps: DeadLetterDeps;

  constructor(deps: DeadLetterDeps) {
    this.deps = deps;
  }

  /** Produces the letters of `refused` records of `topic` (acks=all), in bounded requests. */
  async produce(topic: string, partition: number, refused: readonly Refused[]): Promise<void> {
    if (refused.length === 0) return;
    const { producer, registry } = this.deps;
    const time = new Date().toISOString();
    const letters = refused.map(({ message, error }) =>
      toDeadLetter(
        { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp },
        error,
        { source: this.deps.source, time },
      ),
    );
    const values = await encodeOutputs(TOPICS.deadLetter, letters, registry);
    const messages = refused.map(({ message }, i) => ({ key: deadLetterKey(message.key), value: values[i] as Buffer }));
    for (const chunk of chunkByBytes(messages, REQUEST_BYTES)) await producer.send({ topic: this.deps.topic, acks: -1, messages: chunk });
  }

  /** Counts and logs `refused` records of `topic` once the commit that moved the fence past them succeeded. */
  counted(topic: string, refused: readonly Refused[]): void {
    if (refused.length === 0) return;
    const { metrics, log } = this.deps;
    const perReason = new Map<string, number>();
    for (const { message, error } of refused) {
      perReason.set(error.reason, (perReason.get(error.reason) ?? 0) + 1);
      log.warn({ topic, offset: message.offset, reason: error.reason, field: error.field }, 'dead-lettered a record');
    }
    for (const [reason, n] of perReason) metrics.deadLetters.inc({ reason }, n);
    metrics.eventsConsumed.inc({ topic, outcome: 'dead_letter' }, refused.length);
  }
}
