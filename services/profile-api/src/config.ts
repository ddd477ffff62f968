/**
 * The profile API's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import { readFileSync } from 'node:fs';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import { z } from 'zod';
import { parseTokens } from './tokens.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const Env = z.object({
  REDIS_URL: z.string({ error: 'is required: a redis:// URL, e.g. redis://127.0.0.1:16379' }).regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  /** Must be the segmenter's: the API reads its keys. */
  CRM_KEY_PREFIX: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, _ . or -')
    .default('crm'),
  /** Partition count of the input topics: a customer's partition is murmur2(id) modulo this. */
  CRM_PARTITIONS: int(1, 1024).default(6),
  PROFILE_API_PORT: int(0, 65535).default(8080),
  PROFILE_API_HOST: z.string().min(1).default('0.0.0.0'),
  PROFILE_API_TOKENS_FILE: z.string({ error: 'is required: path of a file of bearer tokens (JSON array, or one per line)' }).min(1),
  CRM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The segmenter's domain configuration file (thresholds, rules, custom segments), for derived fields. */
  CRM_DOMAIN_CONFIG: z.string().optional(),
});

export interface ProfileApiConfig {
  redisUrl: string;
  keyPrefix: string;
  partitions: number;
  port: number;
  host: string;
  tokens: string[];
  logLevel: string;
  domain: DomainConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProfileApiConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) =>
        `  ${i.path.join('.')}: ${i.message}${i.code === 'invalid_type' && env[String(i.path[0])] === undefined ? '' : ` (got "${env[String(i.path[0])]}")`}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let tokens: string[];
  try {
    tokens = parseTokens(readFileSync(e.PROFILE_API_TOKENS_FILE, 'utf8'));
  } catch (err) {
    throw new ConfigError(`PROFILE_API_TOKENS_FILE (${e.PROFILE_API_TOKENS_FILE}): ${(err as Error).message}`);
  }
  let domain = defaultDomainConfig;
  if (e.CRM_DOMAIN_CONFIG) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(e.CRM_DOMAIN_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`CRM_DOMAIN_CONFIG: cannot read JSON from ${e.CRM_DOMAIN_CONFIG}: ${(err as Error).message}`);
    }
    try {
      domain = parseDomainConfig(raw);
    } catch (err) {
      throw new ConfigError(`CRM_DOMAIN_CONFIG (${e.CRM_DOMAIN_CONFIG}): ${(err as Error).message}`);
    }
  }
  return {
    redisUrl: e.REDIS_URL,
    keyPrefix: e.CRM_KEY_PREFIX,
    partitions: e.CRM_PARTITIONS,
    port: e.PROFILE_API_PORT,
    host: e.PROFILE_API_HOST,
    tokens,
    logLevel: e.CRM_LOG_LEVEL,
    domain,
  };
}
