/**
 * Producing the input: everything at once (pre-produced logs) or paced at an offered rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InputEvent, InputTopic } from '@crm/contracts';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { type Encoder, topicOf } from './data.ts';

export interface Record_ {
  topic: string;
  key: string;
  value: Buffer;
}

/** Messages per send: large batches, as a bulk loader would use. */
const BULK_BATCH = 4000;
/** Sends in flight at once. */
const BULK_IN_FLIGHT = 4;

export function producerOf(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

/** Produces every record (acks=all), in order per key. */
export async function produceAll(producer: Producer, records: readonly Record_[]): Promise<void> {
  // One send at a time per topic keeps each customer's events in order; the three topics go in parallel.
  const byTopic = new Map<string, Record_[]>();
  for (const r of records) {
    const list = byTopic.get(r.topic) ?? [];
    list.push(r);
    byTopic.set(r.topic, list);
  }
  const lanes = [...byTopic].map(async ([topic, list]) => {
    for (let i = 0; i < list.length; i += BULK_BATCH * BULK_IN_FLIGHT) {
      const round = list.slice(i, i + BULK_BATCH * BULK_IN_FLIGHT);
      await producer.send({ topic, acks: -1, messages: round.map((r) => ({ key: r.key, value: r.value })) });
    }
  });
  await Promise.all(lanes);
}

/** Events generated and produced at a time: a log of millions never sits in memory whole. */
const PRODUCE_CHUNK = 250_000;

/**
 * Encodes `events` onto their input topics (`topics`: each contract topic's actual name) and
 * produces them, in chunks and in order; returns how many it produced.
 */
export async function produceEvents(kafka: Kafka, topics: Record<InputTopic, string>, encode: Encoder, events: Iterable<InputEvent>): Promise<number> {
  const producer = producerOf(kafka);
  await producer.connect();
  let total = 0;
  const records: Record_[] = [];
  // In chunks, in order: each customer's events stay in order (one send at a time per topic).
  for (const e of events) {
    const topic = topicOf(e);
    records.push({ topic: topics[topic], key: e.subject, value: encode(topic, e) });
    if (records.length === PRODUCE_CHUNK) {
      await produceAll(producer, records);
      total += records.length;
      records.length = 0;
    }
  }
  await produceAll(producer, records);
  total += records.length;
  await producer.disconnect();
  return total;
}

/**
 * Sends `records` at `rate` per second (a tick every few ms sends what is due), stamping each
 * record with its send time (CreateTime). Returns the send time (ms) of each record.
 */
export async function producePaced(
  producer: Producer,
  records: readonly Record_[],
  rate: number,
): Promise<{ sentAt: Float64Array; seconds: number; acks: Array<{ sentAt: number; ms: number }> }> {
  /** Each send's round trip to the broker's ack (acks=all): the broker's own latency, from outside the segmenter. */
  const acks: Array<{ sentAt: number; ms: number }> = [];
  const sentAt = new Float64Array(records.length);
  const t0 = Date.now();
  let next = 0;
  let inFlight = 0;
  const sends: Promise<void>[] = [];
  while (next < records.length) {
    const due = Math.min(records.length, Math.floor(((Date.now() - t0) / 1000) * rate) + 1);
    if (due > next && inFlight < 16) {
      const now = Date.now();
      const slice = records.slice(next, due);
      for (let i = next; i < due; i++) sentAt[i] = now;
      next = due;
      // One send per topic of the slice (kafkajs groups by partition inside).
      const byTopic = new Map<string, Array<{ key: string; value: Buffer; timestamp: string }>>();
      for (const r of slice) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ key: r.key, value: r.value, timestamp: String(now) });
        byTopic.set(r.topic, list);
      }
      inFlight++;
      sends.push(
        producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }).then(() => {
          inFlight--;
          acks.push({ sentAt: now, ms: Date.now() - now });
        }),
      );
    }
    await sleep(2);
  }
  await Promise.all(sends);
  return { sentAt, seconds: (Date.now() - t0) / 1000, acks };
}
