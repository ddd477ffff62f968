/**
 * Connection settings of the CLI, from the environment, defaulting to the local infrastructure
 * (`crm infra up`). The same variables as the services, so one environment drives both.
 */
import { readFileSync } from 'node:fs';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import { endpoints, infraConfig } from '@crm/infra';
import { z } from 'zod';
import { CliError } from './errors.ts';

const Env = z.object({
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'must be a comma-separated list of host:port, e.g. 127.0.0.1:19092')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Empty string: no registry (JSON values). */
  SCHEMA_REGISTRY_URL: z.union([z.literal(''), z.url('must be an http(s) URL of a Confluent-compatible registry')]).optional(),
  CRM_KEY_PREFIX: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, _ . or -')
    .default('crm'),
  CRM_TOPIC_SUFFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'must be letters, digits, _ . or -')
    .default(''),
  CRM_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
  CRM_GROUP_ID: z.string().min(1).default('crm-segmenter'),
  CRM_DOMAIN_CONFIG: z.string().optional(),
});

export interface CliConfig {
  kafkaBrokers: string[];
  redisUrl: string;
  /** null: no registry, values are JSON. */
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
}

/** Reads the settings; an unset variable takes the local infra's value. Throws CliError naming the bad variable. */
export function cliConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new CliError(`${name}: ${issue?.message ?? 'invalid'} (got "${env[name] ?? ''}")`, { exitCode: 2 });
  }
  const e = parsed.data;
  let local: ReturnType<typeof endpoints>;
  try {
    local = endpoints(infraConfig(env as NodeJS.ProcessEnv));
  } catch (err) {
    throw new CliError((err as Error).message, { exitCode: 2 });
  }
  const s = e.CRM_TOPIC_SUFFIX;
  return {
    kafkaBrokers: (e.KAFKA_BROKERS ?? local.kafkaBrokers).split(','),
    redisUrl: e.REDIS_URL ?? local.redisUrl,
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL === '' ? null : (e.SCHEMA_REGISTRY_URL ?? local.schemaRegistryUrl),
    keyPrefix: e.CRM_KEY_PREFIX,
    topicSuffix: s,
    partitions: e.CRM_PARTITIONS,
    groupId: e.CRM_GROUP_ID,
    topics: {
      orders: `commerce.orders.v1${s}`,
      interactions: `service.interactions.v1${s}`,
      profiles: `customer.profiles.v1${s}`,
      segmentChanges: `crm.segment-changes.v1${s}`,
      deadLetter: `crm.dead-letter.v1${s}`,
    },
    domainConfigPath: e.CRM_DOMAIN_CONFIG,
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
