/**
 * The lag monitor's configuration, from the environment, validated once at boot. A bad value
 * stops the service at start with the variable's name and what was expected.
 */
import {
  ConfigError,
  type Env,
  type HttpListen,
  type KafkaConnection,
  httpHostVar,
  intVar,
  kafkaBrokersVar,
  kafkaConnection,
  logLevelVar,
  metricsToken,
  parseEnv,
} from '@crm/service-kit';
import { z } from 'zod';

export { ConfigError };

const EnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokersVar,
  LAG_HTTP_PORT: intVar(0, 65535).default(9465),
  /** Bind address of /metrics, /lag, /healthz and /readyz: loopback unless told (0.0.0.0: every interface). */
  LAG_HTTP_HOST: httpHostVar,
  /** Pause between two collections (each reads every group's offsets once). */
  LAG_INTERVAL_MS: intVar(100, 3_600_000).default(5000),
  /** Explicit consumer groups to watch; when unset, every group whose id starts with LAG_GROUP_PREFIX. */
  LAG_GROUPS: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'must be a comma-separated list of consumer group ids, e.g. crm-segmenter,crm-profile-api')
    .optional(),
  LAG_GROUP_PREFIX: z.string().min(1, 'must not be empty').optional(),
  /**
   * Longest wait for the records at the committed offsets (their timestamps give the lag in
   * seconds). A broker delays a new group's first join by group.initial.rebalance.delay.ms
   * (3 s by default), so this leaves room for that and a fetch.
   */
  LAG_PROBE_TIMEOUT_MS: intVar(1000, 300_000).default(15_000),
  LOG_LEVEL: logLevelVar,
});

/** Which consumer groups to watch: a fixed list, or every group whose id starts with a prefix. */
export type GroupSelector = { groups: string[] } | { prefix: string };

export const DEFAULT_GROUP_PREFIX = 'crm-';

export interface LagMonitorConfig {
  /** Brokers, TLS and SASL (KAFKA_* variables, README "Security"). */
  kafka: KafkaConnection;
  /** Where the HTTP server listens, and the token /metrics and /lag require (CRM_METRICS_TOKEN_FILE). */
  http: HttpListen;
  intervalMs: number;
  groups: GroupSelector;
  probeTimeoutMs: number;
  logLevel: string;
}

export function loadConfig(env: Env = process.env): LagMonitorConfig {
  const e = parseEnv(EnvSchema, env);
  if (e.LAG_GROUPS !== undefined && e.LAG_GROUP_PREFIX !== undefined) {
    throw new ConfigError('invalid configuration:\n  LAG_GROUPS and LAG_GROUP_PREFIX are both set: set one (a fixed list of groups, or a prefix of group ids)');
  }
  return {
    kafka: kafkaConnection(env, e.KAFKA_BROKERS.split(',')),
    http: { port: e.LAG_HTTP_PORT, host: e.LAG_HTTP_HOST, metricsToken: metricsToken(env) },
    intervalMs: e.LAG_INTERVAL_MS,
    groups: e.LAG_GROUPS !== undefined ? { groups: [...new Set(e.LAG_GROUPS.split(','))] } : { prefix: e.LAG_GROUP_PREFIX ?? DEFAULT_GROUP_PREFIX },
    probeTimeoutMs: e.LAG_PROBE_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
