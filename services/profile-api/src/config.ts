/**
 * The profile API's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import { readFileSync } from 'node:fs';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import {
  ConfigError,
  type Env,
  type RedisConnection,
  intVar,
  keyPrefixVar,
  logLevelVar,
  parseEnv,
  readJsonFile,
  redisConnection,
  redisUrlVar,
} from '@crm/service-kit';
import { z } from 'zod';
import { parseTokens } from './tokens.ts';

export { ConfigError };

const EnvSchema = z.object({
  REDIS_URL: redisUrlVar,
  /** Must be the segmenter's: the API reads its keys. */
  CRM_KEY_PREFIX: keyPrefixVar,
  /** Partition count of the input topics: a customer's partition is murmur2(id) modulo this. */
  CRM_PARTITIONS: intVar(1, 1024).default(6),
  PROFILE_API_PORT: intVar(0, 65535).default(8080),
  PROFILE_API_HOST: z.string().min(1).default('0.0.0.0'),
  PROFILE_API_TOKENS_FILE: z.string({ error: 'is required: path of a file of bearer tokens (JSON array, or one per line)' }).min(1),
  CRM_LOG_LEVEL: logLevelVar,
  /** The segmenter's domain configuration file (thresholds, rules, custom segments), for derived fields. */
  CRM_DOMAIN_CONFIG: z.string().optional(),
});

export interface ProfileApiConfig {
  /** Host, ACL user (a read-only one: README "Security") and TLS (REDIS_* variables). */
  redis: RedisConnection;
  keyPrefix: string;
  partitions: number;
  port: number;
  host: string;
  tokens: string[];
  logLevel: string;
  domain: DomainConfig;
}

export function loadConfig(env: Env = process.env): ProfileApiConfig {
  const e = parseEnv(EnvSchema, env);
  let tokens: string[];
  try {
    tokens = parseTokens(readFileSync(e.PROFILE_API_TOKENS_FILE, 'utf8'));
  } catch (err) {
    throw new ConfigError(`PROFILE_API_TOKENS_FILE (${e.PROFILE_API_TOKENS_FILE}): ${(err as Error).message}`);
  }
  const domain = e.CRM_DOMAIN_CONFIG ? readJsonFile('CRM_DOMAIN_CONFIG', e.CRM_DOMAIN_CONFIG, parseDomainConfig) : defaultDomainConfig;
  return {
    redis: redisConnection(env, e.REDIS_URL),
    keyPrefix: e.CRM_KEY_PREFIX,
    partitions: e.CRM_PARTITIONS,
    port: e.PROFILE_API_PORT,
    host: e.PROFILE_API_HOST,
    tokens,
    logLevel: e.CRM_LOG_LEVEL,
    domain,
  };
}
