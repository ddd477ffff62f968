/**
 * The segmenter's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import { suffixedTopics } from '@crm/contracts';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import {
  ConfigError,
  type Env,
  intVar,
  kafkaBrokersVar,
  keyPrefixVar,
  logLevelVar,
  parseEnv,
  readJsonFile,
  redisUrlVar,
  topicSuffixVar,
} from '@crm/service-kit';
import { z } from 'zod';

export { ConfigError };

const EnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokersVar,
  REDIS_URL: redisUrlVar,
  SCHEMA_REGISTRY_URL: z.url('must be an http(s) URL of a Confluent-compatible registry').optional(),
  CRM_GROUP_ID: z.string().min(1).default('crm-segmenter'),
  CRM_KEY_PREFIX: keyPrefixVar,
  CRM_TOPIC_SUFFIX: topicSuffixVar,
  /** Partitions of the topics the service creates when they are missing. */
  CRM_PARTITIONS: intVar(1, 1024).default(6),
  CRM_CLOCK: z.enum(['wall', 'stream']).default('wall'),
  /**
   * live: emit every change. backfill: rebuild state from the start of the topics quietly (no
   * changes emitted, stream clock), then switch to live once every owned partition has reached
   * the end offsets seen at start.
   */
  CRM_MODE: z.enum(['live', 'backfill']).default('live'),
  /** fixed: R/F/M scores by the configured cuts. quantile: cuts are the population's quintiles, recomputed periodically. */
  CRM_SCORING: z.enum(['fixed', 'quantile']).default('fixed'),
  /** Quantile mode: how often the cuts are recomputed (and customers re-scored when they move). */
  CRM_RESCORE_INTERVAL_MS: intVar(100, 86_400_000).default(300_000),
  /** How often each owned partition's due timers are checked. */
  CRM_TIMER_INTERVAL_MS: intVar(10, 3_600_000).default(250),
  /** Most customers evaluated per timer commit (one Lua call). */
  CRM_TIMER_BATCH: intVar(1, 10_000).default(500),
  CRM_HTTP_PORT: intVar(0, 65535).default(9464),
  CRM_LOG_LEVEL: logLevelVar,
  /** Path of a JSON file with the domain configuration (thresholds, rules, custom segments). */
  CRM_DOMAIN_CONFIG: z.string().optional(),
  /**
   * How long the group waits for a silent member before moving its partitions. 30 s rides out
   * a slow Redis; tests that SIGKILL members lower it so that failover is quick.
   */
  CRM_SESSION_TIMEOUT_MS: intVar(6_000, 300_000).default(30_000),
  /**
   * Recent changes kept per customer for the read API (a bounded Redis list, ~200 bytes an
   * entry); 0 keeps none.
   */
  CRM_HISTORY_LENGTH: intVar(0, 1000).default(5),
  /**
   * Batches consumed in parallel (kafkajs partitionsConsumedConcurrently, over topic-partitions):
   * at least 3 x the partitions an instance owns, so every owned partition has work in hand.
   */
  CRM_CONCURRENCY: intVar(1, 256).default(18),
  /**
   * What a member does with a partition whose Redis fence is behind the offsets committed to
   * Kafka, or missing where offsets exist (Redis lost writes: docs/architecture.md, "Durability").
   * reapply: re-apply from the fence (or from the log start when the fence is gone and nothing was
   * deleted from the log); stop: leave the partition unconsumed for an operator.
   */
  CRM_ON_FENCE_LOSS: z.enum(['reapply', 'stop']).default('reapply'),
  /**
   * Readiness: a partition with work waiting and no successful commit for this long, or no fetch
   * from the broker for this long, makes /readyz answer 503.
   */
  CRM_STALL_TIMEOUT_MS: intVar(500, 600_000).default(30_000),
  /**
   * Replicas that must acknowledge a commit (Redis WAIT) before its changes are relayed to Kafka;
   * 0 relays once the primary holds the commit (docs/architecture.md, "Durability").
   */
  CRM_REDIS_WAIT_REPLICAS: intVar(0, 16).default(0),
  /** How long WAIT waits for CRM_REDIS_WAIT_REPLICAS acknowledgements before the unit fails and is retried. */
  CRM_REDIS_WAIT_TIMEOUT_MS: intVar(1, 60_000).default(1_000),
});

export interface SegmenterConfig {
  kafkaBrokers: string[];
  redisUrl: string;
  schemaRegistryUrl: string | undefined;
  groupId: string;
  keyPrefix: string;
  topics: { orders: string; interactions: string; profiles: string; segmentChanges: string; deadLetter: string };
  partitions: number;
  clock: 'wall' | 'stream';
  mode: 'live' | 'backfill';
  scoring: 'fixed' | 'quantile';
  rescoreIntervalMs: number;
  timerIntervalMs: number;
  timerBatch: number;
  httpPort: number;
  logLevel: string;
  concurrency: number;
  sessionTimeoutMs: number;
  historyLength: number;
  onFenceLoss: 'reapply' | 'stop';
  stallTimeoutMs: number;
  redisWaitReplicas: number;
  redisWaitTimeoutMs: number;
  domain: DomainConfig;
}

export function loadConfig(env: Env = process.env): SegmenterConfig {
  const e = parseEnv(EnvSchema, env);
  const domain = e.CRM_DOMAIN_CONFIG ? readJsonFile('CRM_DOMAIN_CONFIG', e.CRM_DOMAIN_CONFIG, parseDomainConfig) : defaultDomainConfig;
  return {
    kafkaBrokers: e.KAFKA_BROKERS.split(','),
    redisUrl: e.REDIS_URL,
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL,
    groupId: e.CRM_GROUP_ID,
    keyPrefix: e.CRM_KEY_PREFIX,
    topics: suffixedTopics(e.CRM_TOPIC_SUFFIX),
    partitions: e.CRM_PARTITIONS,
    clock: e.CRM_CLOCK,
    mode: e.CRM_MODE,
    scoring: e.CRM_SCORING,
    rescoreIntervalMs: e.CRM_RESCORE_INTERVAL_MS,
    timerIntervalMs: e.CRM_TIMER_INTERVAL_MS,
    timerBatch: e.CRM_TIMER_BATCH,
    httpPort: e.CRM_HTTP_PORT,
    logLevel: e.CRM_LOG_LEVEL,
    concurrency: e.CRM_CONCURRENCY,
    sessionTimeoutMs: e.CRM_SESSION_TIMEOUT_MS,
    historyLength: e.CRM_HISTORY_LENGTH,
    onFenceLoss: e.CRM_ON_FENCE_LOSS,
    stallTimeoutMs: e.CRM_STALL_TIMEOUT_MS,
    redisWaitReplicas: e.CRM_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: e.CRM_REDIS_WAIT_TIMEOUT_MS,
    domain,
  };
}
