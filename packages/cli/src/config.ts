/**
 * Connection settings of the CLI, from the environment, defaulting to the local infrastructure
 * (`crm infra up`). The same variables as the services, so one environment drives both.
 */
import { readFileSync } from 'node:fs';
import { type EventTimeBounds, suffixedTopics } from '@crm/contracts';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import { endpoints, infraConfig } from '@crm/infra';
import {
  ConfigError,
  type Env,
  type KafkaConnection,
  type RedisConnection,
  type RegistryConnection,
  formatEnvIssue,
  intVar,
  kafkaBrokersVar,
  kafkaConnection,
  keyPrefixVar,
  parseEnv,
  redisConnection,
  redisUrlVar,
  registryConnection,
  topicSuffixVar,
} from '@crm/service-kit';
import { EVENT_TIME_ENV, eventTimeBoundsOf } from '@crm/service-kit/event-time';
import { z } from 'zod';
import { CliError } from './errors.ts';

const EnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokersVar.optional(),
  REDIS_URL: redisUrlVar.optional(),
  /** Empty string: no registry (JSON values). */
  SCHEMA_REGISTRY_URL: z.union([z.literal(''), z.url('must be an http(s) URL of a Confluent-compatible registry')]).optional(),
  CRM_KEY_PREFIX: keyPrefixVar,
  CRM_TOPIC_SUFFIX: topicSuffixVar,
  CRM_PARTITIONS: intVar(1, 1024).default(6),
  CRM_GROUP_ID: z.string().min(1).default('crm-segmenter'),
  CRM_DOMAIN_CONFIG: z.string().optional(),
  /** The deployment's clock, as the segmenter's: reads without --at derive at the wall clock or at the shared stream time. */
  CRM_CLOCK: z.enum(['wall', 'stream']).default('wall'),
  /** The segmenter's event-time bounds: the import skips rows outside them. */
  ...EVENT_TIME_ENV,
});

export interface CliConfig {
  /** Brokers, TLS and SASL (KAFKA_* variables, README "Security"). */
  kafka: KafkaConnection;
  /** Host, ACL user and TLS; `display` is what messages show. */
  redis: RedisConnection;
  /** REDIS_URL as given, for a child process's environment: may hold a password, never print it. */
  redisUrl: string;
  /** null: no registry, values are JSON. */
  registry: RegistryConnection | null;
  /** SCHEMA_REGISTRY_URL as given (null: none), for a child process's environment: never print it. */
  schemaRegistryUrl: string | null;
  keyPrefix: string;
  topicSuffix: string;
  /** Partitions of topics `crm topics create` makes. */
  partitions: number;
  /** The segmenter's consumer group. */
  groupId: string;
  topics: { orders: string; interactions: string; profiles: string; segmentChanges: string; deadLetter: string };
  /** Path of the domain configuration JSON (CRM_DOMAIN_CONFIG), if any. */
  domainConfigPath: string | undefined;
  /** What reads without --at derive at: the wall clock, or the deployment's stream time (`<prefix>:stream-clock`). */
  clock: 'wall' | 'stream';
  /** Rows dated outside these are skipped by the import (CRM_MIN_EVENT_TIME, CRM_MAX_FUTURE_SKEW_MS). */
  eventTimeBounds: EventTimeBounds;
}

/** Reads the settings; an unset variable takes the local infra's value. Throws CliError naming the bad variable. */
export function cliConfig(env: Env): CliConfig {
  try {
    return readConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // One line, the first bad variable: the CLI's errors are one line on stderr.
    const first = err.issues[0];
    throw new CliError(first === undefined ? err.message : formatEnvIssue(first), { exitCode: 2, cause: err });
  }
}

function readConfig(env: Env): CliConfig {
  const e = parseEnv(EnvSchema, env);
  let local: ReturnType<typeof endpoints>;
  try {
    local = endpoints(infraConfig(env as NodeJS.ProcessEnv));
  } catch (err) {
    throw new CliError((err as Error).message, { exitCode: 2 });
  }
  const redisUrl = e.REDIS_URL ?? local.redisUrl;
  const schemaRegistryUrl = e.SCHEMA_REGISTRY_URL === '' ? null : (e.SCHEMA_REGISTRY_URL ?? local.schemaRegistryUrl);
  return {
    kafka: kafkaConnection(env, (e.KAFKA_BROKERS ?? local.kafkaBrokers).split(',')),
    redis: redisConnection(env, redisUrl),
    redisUrl,
    registry: schemaRegistryUrl === null ? null : registryConnection(env, schemaRegistryUrl),
    schemaRegistryUrl,
    keyPrefix: e.CRM_KEY_PREFIX,
    topicSuffix: e.CRM_TOPIC_SUFFIX,
    partitions: e.CRM_PARTITIONS,
    groupId: e.CRM_GROUP_ID,
    topics: suffixedTopics(e.CRM_TOPIC_SUFFIX),
    domainConfigPath: e.CRM_DOMAIN_CONFIG,
    clock: e.CRM_CLOCK,
    eventTimeBounds: eventTimeBoundsOf(e),
  };
}

/** The input topics, in the segmenter's order. */
export function inputTopics(config: CliConfig): string[] {
  return [config.topics.orders, config.topics.interactions, config.topics.profiles];
}

/** The domain configuration in force: CRM_DOMAIN_CONFIG's file, else the defaults. */
export function domainConfig(config: CliConfig): DomainConfig {
  if (config.domainConfigPath === undefined || config.domainConfigPath === '') return defaultDomainConfig;
  try {
    return parseDomainConfig(JSON.parse(readFileSync(config.domainConfigPath, 'utf8')));
  } catch (err) {
    throw new CliError(`CRM_DOMAIN_CONFIG (${config.domainConfigPath}): ${(err as Error).message.split('\n')[0]}`, { exitCode: 2 });
  }
}
