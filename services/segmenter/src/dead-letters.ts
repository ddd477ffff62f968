/**
 * The dead-letter path of a partition: records refused by decoding or admission go to the
 * dead-letter topic before the commit that moves the fence past them, and are counted once
 * that commit succeeded.
 *
 * What keeps a partition moving whatever the records:
 * - each letter is bounded (toDeadLetter keeps at most MAX_KEPT_BYTES of the record, ~350 KB
 *   encoded), and letters go out in requests of at most DEAD_LETTER_REQUEST_BYTES, so no produce request
 *   exceeds the broker's max.message.bytes (1 MiB by default) however many bad records a batch
 *   holds (1,000 bad 1 KiB records once made one 1.4 MB request, refused, retried forever);
 * - a letter is keyed by the record's key cut to MAX_KEPT_KEY_BYTES, never by a huge key.
 *
 * Counting: a unit that fails after its letters went out is fetched and dead-lettered again
 * (same deterministic letter id, so consumers can drop the repeat), but the metric counts a
 * record when the fence moves past it, which happens once.
 */
import {
  DEAD_LETTER_REQUEST_BYTES,
  type DecodeError,
  type RegistryClient,
  TOPICS,
  chunkByBytes,
  deadLetterKey,
  encodeOutputs,
  toDeadLetter,
} from '@crm/contracts';
import type { KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

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
    for (const chunk of chunkByBytes(messages, DEAD_LETTER_REQUEST_BYTES)) await producer.send({ topic: this.deps.topic, acks: -1, messages: chunk });
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
