import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopicsAndWait } from '@crm/infra';
import { type Connections, kafkaOptions, redisOptions, registryOptions } from '@crm/service-kit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis, type RedisOptions } from 'ioredis';
import { type Admin, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { type TestEndpoints, endpointConnections } from './endpoints.ts';

/** Endpoints provided by the global setup. */
export function testEndpoints(): TestEndpoints {
  return inject('endpoints');
}

/** A name no other test uses: tests isolate by names, never by flushing shared servers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

let connections: Connections | undefined;

/** How this worker's clients reach the servers (TLS, SASL, credentials from the environment). */
export function testConnections(): Connections {
  connections ??= endpointConnections(testEndpoints());
  return connections;
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka(kafkaOptions(testConnections().kafka, { clientId, logLevel: logLevel.NOTHING }));
}

/** A client of the test Redis; `options` on top (e.g. enableAutoPipelining). */
export function testRedis(options: RedisOptions = {}): Redis {
  return new Redis(redisOptions(testConnections().redis, { maxRetriesPerRequest: 3, ...options }));
}

export function testRegistry(): SchemaRegistry {
  return new SchemaRegistry(registryOptions(testConnections().registry));
}

export async function createTopic(admin: Admin, topic: string, numPartitions = 1): Promise<void> {
  await createTopicsAndWait(admin, [{ topic, numPartitions, replicationFactor: 1 }]);
}

/**
 * Resolves with the first truthy value of `probe`, polling every `intervalMs`; rejects with
 * `what` after `timeoutMs`. For conditions that no event announces (a key appearing in Redis).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(intervalMs);
  }
}

export interface Collected {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/**
 * Reads `topic` from the beginning with a fresh group until `done(messages)` holds, then
 * disconnects and returns what it read.
 */
export async function collectMessages(kafka: Kafka, topic: string, done: (messages: Collected[]) => boolean, timeoutMs = 30_000): Promise<Collected[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('collector'), maxWaitTimeInMs: 100 });
  const messages: Collected[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        messages.push({ topic: t, partition, message });
        if (done(messages)) resolveDone();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms collecting ${topic}: got ${messages.length} message(s)`)), timeoutMs);
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Every message of `topic` up to its end offsets at the time of the call, in partition order. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<Collected[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  if (total === 0) return [];
  const got = await collectMessages(kafka, topic, (m) => m.length >= total, timeoutMs);
  return got.sort((a, b) => a.partition - b.partition || Number(a.message.offset) - Number(b.message.offset));
}
