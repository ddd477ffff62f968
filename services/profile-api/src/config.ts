/**
 * The profile API's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import {
  ConfigError,
  type Env,
  type RedisConnection,
  httpHostVar,
  intVar,
  keyPrefixVar,
  logLevelVar,
  metricsToken,
  parseEnv,
  readJsonFile,
  redisConnection,
  redisUrlVar,
  registerSecret,
  topicSuffixVar,
} from '@crm/service-kit';
import { z } from 'zod';
import type { Clock } from '@crm/store';
import { type TokenEntry, parseTokens } from './tokens.ts';

export { ConfigError };

const EnvSchema = z.object({
  REDIS_URL: redisUrlVar,
  /** Must be the segmenter's: the API reads its keys. */
  CRM_KEY_PREFIX: keyPrefixVar,
  /** Must be the segmenter's: the recent-change histories leave it out of the topics they name. */
  CRM_TOPIC_SUFFIX: topicSuffixVar,
  /** Partition count of the input topics: a customer's partition is murmur2(id) modulo this. */
  CRM_PARTITIONS: intVar(1, 1024).default(6),
  PROFILE_API_PORT: intVar(0, 65535).default(8080),
  /** Loopback by default: listening on every interface is a deliberate choice (0.0.0.0). */
  PROFILE_API_HOST: httpHostVar,
  PROFILE_API_TOKENS_FILE: z.string({ error: 'is required: path of a file of bearer tokens (JSON array, or one per line)' }).min(1),
  CRM_LOG_LEVEL: logLevelVar,
  /** The segmenter's domain configuration file (thresholds, rules, custom segments), for derived fields. */
  CRM_DOMAIN_CONFIG: z.string().optional(),
  /**
   * The segmenter's: reads without `at` derive at the wall clock (`wall`), or at the
   * deployment's stream time `<prefix>:stream-clock` (`stream`), each customer's asOf while none is stored.
   */
  CRM_CLOCK: z.enum(['wall', 'stream']).default('wall'),
});

// ------------------------------------------------------------------ PROFILE_API_* (TLS, rate limits)

/** A positive number of requests per second (fractions allowed: 0.5 is one every two seconds). */
const perSecondVar = z.coerce.number().positive().max(1_000_000);

const ProfileApiEnv = {
  /** PEM certificate (chain) and its private key: HTTPS when both are set, plain HTTP when neither. */
  PROFILE_API_TLS_CERT_FILE: z.string().min(1).optional(),
  PROFILE_API_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Default per-token rate: tokens refill at this many requests per second... */
  PROFILE_API_RATE_LIMIT: perSecondVar.default(100),
  /** ...into a bucket of this many, the most a token can send at once after a quiet spell. */
  PROFILE_API_RATE_LIMIT_BURST: intVar(1, 1_000_000).default(200),
};

/** One TLS file without the other is a mistake, not a request for plain HTTP. */
function tlsPair(e: { PROFILE_API_TLS_CERT_FILE?: string | undefined; PROFILE_API_TLS_KEY_FILE?: string | undefined }, ctx: z.RefinementCtx): void {
  const [cert, key] = [e.PROFILE_API_TLS_CERT_FILE, e.PROFILE_API_TLS_KEY_FILE];
  if (cert !== undefined && key === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['PROFILE_API_TLS_KEY_FILE'],
      message: 'is required when PROFILE_API_TLS_CERT_FILE is set: the PEM private key of the certificate',
    });
  if (key !== undefined && cert === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['PROFILE_API_TLS_CERT_FILE'],
      message: 'is required when PROFILE_API_TLS_KEY_FILE is set: the PEM certificate of the key',
    });
}

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The certificate and key, read and checked to form a usable pair (OpenSSL's reason never quotes the key). */
function loadTls(certFile: string | undefined, keyFile: string | undefined): TlsFiles | null {
  if (certFile === undefined || keyFile === undefined) return null;
  const tls = { cert: readPem('PROFILE_API_TLS_CERT_FILE', certFile), key: readPem('PROFILE_API_TLS_KEY_FILE', keyFile) };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new ConfigError(
      `PROFILE_API_TLS_CERT_FILE (${certFile}) and PROFILE_API_TLS_KEY_FILE (${keyFile}) are not a usable PEM certificate and key: ${(err as Error).message}`,
    );
  }
  return tls;
}

export interface TlsFiles {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key: a secret, never logged. */
  key: string;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface ProfileApiConfig {
  /** Host, ACL user (a read-only one: README "Security") and TLS (REDIS_* variables). */
  redis: RedisConnection;
  keyPrefix: string;
  /** The segmenter's CRM_TOPIC_SUFFIX: recent changes name their topics with it. */
  topicSuffix: string;
  partitions: number;
  port: number;
  host: string;
  tokens: TokenEntry[];
  logLevel: string;
  domain: DomainConfig;
  /** The instant reads without `at` derive at: the wall clock, or the stream time (instant.ts). */
  clock: Clock;
  /** HTTPS when set, plain HTTP when null. */
  tls: TlsFiles | null;
  /** Per-token rate limit of tokens that set none of their own. */
  rateLimit: RateLimit;
  /** The bearer token /metrics requires (CRM_METRICS_TOKEN_FILE, as the other services); undefined: open. */
  metricsToken?: string | undefined;
}

/** The tokens file, parsed, every token registered as a secret: masked wherever a log line or an error might quote it. */
function loadTokens(path: string): TokenEntry[] {
  let tokens: TokenEntry[];
  try {
    tokens = parseTokens(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`PROFILE_API_TOKENS_FILE (${path}): ${(err as Error).message}`);
  }
  for (const t of tokens) registerSecret(t.token);
  return tokens;
}

export function loadConfig(env: Env = process.env): ProfileApiConfig {
  const e = parseEnv(EnvSchema.extend(ProfileApiEnv).superRefine(tlsPair), env);
  const tokens = loadTokens(e.PROFILE_API_TOKENS_FILE);
  const domain = e.CRM_DOMAIN_CONFIG ? readJsonFile('CRM_DOMAIN_CONFIG', e.CRM_DOMAIN_CONFIG, parseDomainConfig) : defaultDomainConfig;
  return {
    redis: redisConnection(env, e.REDIS_URL),
    keyPrefix: e.CRM_KEY_PREFIX,
    topicSuffix: e.CRM_TOPIC_SUFFIX,
    partitions: e.CRM_PARTITIONS,
    port: e.PROFILE_API_PORT,
    host: e.PROFILE_API_HOST,
    tokens,
    logLevel: e.CRM_LOG_LEVEL,
    domain,
    clock: e.CRM_CLOCK,
    tls: loadTls(e.PROFILE_API_TLS_CERT_FILE, e.PROFILE_API_TLS_KEY_FILE),
    rateLimit: { perSecond: e.PROFILE_API_RATE_LIMIT, burst: e.PROFILE_API_RATE_LIMIT_BURST },
    metricsToken: metricsToken(env),
  };
}
