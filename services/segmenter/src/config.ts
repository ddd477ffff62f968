/**
 * The segmenter's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import { type EventTimeBounds, isoTime, suffixedTopics } from '@crm/contracts';
import { type DomainConfig, defaultDomainConfig, parseDomainConfig } from '@crm/domain';
import {
  ConfigError,
  type Env,
  type HttpListen,
  type KafkaConnection,
  type RedisConnection,
  type RegistryConnection,
  httpHostVar,
  intVar,
  kafkaBrokersVar,
  kafkaConnection,
  keyPrefixVar,
  logLevelVar,
  metricsToken,
  parseEnv,
  readJsonFile,
  redisConnection,
  redisUrlVar,
  registryConnection,
  topicSuffixVar,
} from '@crm/service-kit';
import { EVENT_TIME_ENV, eventTimeBoundsOf } from '@crm/service-kit/event-time';
import { z } from 'zod';
import type { FenceLossPolicy } from './fence-audit.ts';

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
  /**
   * With CRM_MODE=backfill: instead of going live, evaluate every customer at one instant and
   * stop (exit 0 once no timer is due up to it). end: the latest event time over all partitions
   * once the backfill reached the end offsets seen at start; else an ISO-8601 UTC instant.
   */
  CRM_AS_OF: z
    .string()
    .refine((v) => v === 'end' || isoTime.safeParse(v).success, { message: 'must be end or an ISO-8601 UTC timestamp, e.g. 2026-01-31T12:00:00Z' })
    .optional(),
  /** fixed: R/F/M scores by the configured cuts. quantile: cuts are the population's quintiles, recomputed periodically. */
  CRM_SCORING: z.enum(['fixed', 'quantile']).default('fixed'),
  /** Quantile mode: how often the cuts are recomputed (and customers re-scored when they move). */
  CRM_RESCORE_INTERVAL_MS: intVar(100, 86_400_000).default(300_000),
  /** How often each owned partition's due timers are checked. */
  CRM_TIMER_INTERVAL_MS: intVar(10, 3_600_000).default(250),
  /** Most customers evaluated per timer commit (one Lua call). */
  CRM_TIMER_BATCH: intVar(1, 10_000).default(500),
  CRM_HTTP_PORT: intVar(0, 65535).default(9464),
  /** Bind address of /metrics, /healthz and /readyz: loopback unless told (0.0.0.0: every interface). */
  CRM_HTTP_HOST: httpHostVar,
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
   * How long the broker holds a fetch for more records while fewer than 64 KiB wait (kafkajs
   * maxWaitTimeInMs with minBytes): at low load each fetch then brings several events per
   * partition, so the per-unit work (a read, a commit, a produce, a trim) is shared by more of
   * them, at the cost of up to this much latency. Under load 64 KiB are there at once and
   * nothing waits. 0: a fetch returns as soon as one record arrives.
   */
  CRM_FETCH_WAIT_MS: intVar(0, 1000).default(5),
  ...EVENT_TIME_ENV,
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

/** Variables that depend on each other. */
const CheckedEnv = EnvSchema.superRefine((e, ctx) => {
  if (e.CRM_AS_OF !== undefined && e.CRM_MODE !== 'backfill')
    ctx.addIssue({ code: 'custom', path: ['CRM_AS_OF'], message: 'needs CRM_MODE=backfill: an as-of run rebuilds state from the topics, then stops' });
});

export interface SegmenterConfig {
  /** Brokers, TLS and SASL (KAFKA_* variables, README "Security"). */
  kafka: KafkaConnection;
  /** Host, ACL user and TLS (REDIS_* variables). */
  redis: RedisConnection;
  /** Undefined: JSON values, no registry. */
  registry: RegistryConnection | undefined;
  groupId: string;
  keyPrefix: string;
  topics: { orders: string; interactions: string; profiles: string; segmentChanges: string; deadLetter: string };
  /** CRM_TOPIC_SUFFIX, which `topics` end with: histories leave it out of their causes (packages/store/src/history.ts). */
  topicSuffix: string;
  partitions: number;
  clock: 'wall' | 'stream';
  mode: 'live' | 'backfill';
  /** CRM_AS_OF: 'end', or the instant (ms) every customer is evaluated at before the backfill stops; null: go live. */
  asOf: 'end' | number | null;
  scoring: 'fixed' | 'quantile';
  rescoreIntervalMs: number;
  timerIntervalMs: number;
  timerBatch: number;
  /** Where /metrics, /healthz and /readyz listen, and the token /metrics requires (CRM_METRICS_TOKEN_FILE). */
  http: HttpListen;
  logLevel: string;
  concurrency: number;
  fetchWaitMs: number;
  sessionTimeoutMs: number;
  historyLength: number;
  /** Events outside these are dead-lettered (CRM_MIN_EVENT_TIME, CRM_MAX_FUTURE_SKEW_MS). */
  eventTimeBounds: EventTimeBounds;
  onFenceLoss: FenceLossPolicy;
  stallTimeoutMs: number;
  redisWaitReplicas: number;
  redisWaitTimeoutMs: number;
  domain: DomainConfig;
}

export function loadConfig(env: Env = process.env): SegmenterConfig {
  const e = parseEnv(CheckedEnv, env);
  const domain = e.CRM_DOMAIN_CONFIG ? readJsonFile('CRM_DOMAIN_CONFIG', e.CRM_DOMAIN_CONFIG, parseDomainConfig) : defaultDomainConfig;
  return {
    kafka: kafkaConnection(env, e.KAFKA_BROKERS.split(',')),
    redis: redisConnection(env, e.REDIS_URL),
    registry: e.SCHEMA_REGISTRY_URL ? registryConnection(env, e.SCHEMA_REGISTRY_URL) : undefined,
    groupId: e.CRM_GROUP_ID,
    keyPrefix: e.CRM_KEY_PREFIX,
    topics: suffixedTopics(e.CRM_TOPIC_SUFFIX),
    topicSuffix: e.CRM_TOPIC_SUFFIX,
    partitions: e.CRM_PARTITIONS,
    clock: e.CRM_CLOCK,
    mode: e.CRM_MODE,
    asOf: e.CRM_AS_OF === undefined ? null : e.CRM_AS_OF === 'end' ? 'end' : Date.parse(e.CRM_AS_OF),
    scoring: e.CRM_SCORING,
    rescoreIntervalMs: e.CRM_RESCORE_INTERVAL_MS,
    timerIntervalMs: e.CRM_TIMER_INTERVAL_MS,
    timerBatch: e.CRM_TIMER_BATCH,
    http: { port: e.CRM_HTTP_PORT, host: e.CRM_HTTP_HOST, metricsToken: metricsToken(env) },
    logLevel: e.CRM_LOG_LEVEL,
    concurrency: e.CRM_CONCURRENCY,
    fetchWaitMs: e.CRM_FETCH_WAIT_MS,
    sessionTimeoutMs: e.CRM_SESSION_TIMEOUT_MS,
    historyLength: e.CRM_HISTORY_LENGTH,
    eventTimeBounds: eventTimeBoundsOf(e),
    onFenceLoss: e.CRM_ON_FENCE_LOSS,
    stallTimeoutMs: e.CRM_STALL_TIMEOUT_MS,
    redisWaitReplicas: e.CRM_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: e.CRM_REDIS_WAIT_TIMEOUT_MS,
    domain,
  };
}
