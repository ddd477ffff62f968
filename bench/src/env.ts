/**
 * Where the benchmark runs: the servers (from the environment, else the local infra), an
 * isolated segmenter configuration per phase (own topics, group and key prefix, as the tests
 * isolate), the versions reported in the results, and the topics created up front.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { type InputTopic, TOPICS } from '@crm/contracts';
import { brokerRelease, createTopicsAndWait, listenerPid, localPort, up } from '@crm/infra';
import { type SegmenterConfig, loadConfig } from '@crm/segmenter';
import { type Connections, connections, kafkaOptions, redisOptions } from '@crm/service-kit';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';

export interface Endpoints {
  kafkaBrokers: string;
  redisUrl: string;
  schemaRegistryUrl: string;
  /** TLS, SASL and credentials from the environment (the services' variables). */
  connections: Connections;
}

/** The servers named by KAFKA_BROKERS, REDIS_URL and SCHEMA_REGISTRY_URL, else the local infra (started when down). */
export async function endpoints(): Promise<Endpoints> {
  const e = process.env;
  if (e['KAFKA_BROKERS'] && e['REDIS_URL'] && e['SCHEMA_REGISTRY_URL']) {
    const urls = { kafkaBrokers: e['KAFKA_BROKERS'], redisUrl: e['REDIS_URL'], schemaRegistryUrl: e['SCHEMA_REGISTRY_URL'] };
    return { ...urls, connections: connections(e, urls) };
  }
  const res = await up();
  const urls = { kafkaBrokers: res.kafkaBrokers, redisUrl: res.redisUrl, schemaRegistryUrl: res.schemaRegistryUrl };
  return { ...urls, connections: connections(e, urls) };
}

export interface Phase {
  /** Environment of the segmenter child. */
  env: Record<string, string>;
  config: SegmenterConfig;
}

/** A segmenter configuration no other run or test shares: its own topics, group and key prefix. */
export function isolatedPhase(ep: Endpoints, name: string, overrides: Record<string, string> = {}): Phase {
  const id = `bench-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    KAFKA_BROKERS: ep.kafkaBrokers,
    REDIS_URL: ep.redisUrl,
    SCHEMA_REGISTRY_URL: ep.schemaRegistryUrl,
    CRM_GROUP_ID: id,
    CRM_KEY_PREFIX: id,
    CRM_TOPIC_SUFFIX: `.${id}`,
    CRM_PARTITIONS: '6',
    CRM_LOG_LEVEL: 'warn',
    ...overrides,
  };
  // The child segmenter inherits this process's environment (its TLS and SASL settings too).
  return { env, config: loadConfig({ ...process.env, ...env }) };
}

/** The phase's topic name of each input contract topic. */
export function inputTopicsOf(config: SegmenterConfig): Record<InputTopic, string> {
  const t = config.topics;
  return { [TOPICS.orders]: t.orders, [TOPICS.interactions]: t.interactions, [TOPICS.profiles]: t.profiles };
}

export function kafkaClient(ep: Endpoints, clientId = 'crm-bench'): Kafka {
  return new Kafka(kafkaOptions(ep.connections.kafka, { clientId, logLevel: logLevel.NOTHING }));
}

export function redisClient(ep: Endpoints): Redis {
  return new Redis(redisOptions(ep.connections.redis, { maxRetriesPerRequest: 3 }));
}

/**
 * Creates every topic of the phase. The changes topic stamps records with the broker's append
 * time (LogAppendTime), so a change's timestamp is when it landed, on this machine's clock.
 */
export async function createTopics(admin: Admin, config: SegmenterConfig, partitions: number): Promise<void> {
  const t = config.topics;
  await createTopicsAndWait(admin, [
    ...[t.orders, t.interactions, t.profiles, t.deadLetter].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    { topic: t.segmentChanges, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
  ]);
}

/** Deletes the phase's topics (the benchmark leaves nothing behind on the broker but Redis keys under its prefix). */
export async function deleteTopics(admin: Admin, config: SegmenterConfig): Promise<void> {
  await admin.deleteTopics({ topics: Object.values(config.topics) }).catch(() => undefined);
}

export interface Versions {
  node: string;
  kafka: string;
  redis: string;
  cores: number;
  cpu: string;
}

export async function versions(redis: Redis, brokers: string): Promise<Versions> {
  const info = await redis.info('server');
  const kafka = brokerRelease(brokers);
  return {
    node: process.version,
    kafka,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
  };
}

/** Pids of the broker and Redis (for their CPU figures) when they run on this machine, whoever started them. */
export function serverPids(ep: Endpoints): { kafka: number | null; redis: number | null } {
  const pid = (hostPort: string) => {
    const port = localPort(hostPort);
    return port === null ? null : listenerPid(port);
  };
  return { kafka: pid(ep.kafkaBrokers.split(',')[0] ?? ''), redis: pid(new URL(ep.redisUrl).host) };
}
