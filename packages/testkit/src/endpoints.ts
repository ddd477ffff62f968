/** The real servers a test talks to, how a test's clients reach them, and how to ask each for its version. */
import { type Connections, connections, kafkaOptions, redisOptions } from '@crm/service-kit';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

export interface TestEndpoints {
  kafkaBrokers: string;
  redisUrl: string;
  schemaRegistryUrl: string;
  /** How they were found: 'environment', 'testcontainers' or 'local infra'. */
  path: string;
}

export interface ServerVersions {
  kafka: string;
  redis: string;
  registry: string;
}

/**
 * How to reach `e` with the TLS, SASL and credentials the environment gives (the services'
 * variables: KAFKA_SECURITY_PROTOCOL, REDIS_PASSWORD_FILE, ...), so tests run against secured
 * servers as they do against open ones.
 */
export function endpointConnections(e: TestEndpoints): Connections {
  return connections(process.env, e);
}

/**
 * Versions as the servers report them. A Kafka broker does not report its release over the
 * protocol, so Kafka's comes from the jars of the process listening on the broker's port when
 * that is on this machine, whoever started it (@crm/infra brokerRelease).
 */
export async function serverVersions(e: TestEndpoints): Promise<ServerVersions> {
  const conn = endpointConnections(e);
  const redis = new Redis(redisOptions(conn.redis, { lazyConnect: true, maxRetriesPerRequest: 1 }));
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();

  const kafka = new Kafka(kafkaOptions(conn.kafka, { logLevel: logLevel.NOTHING }));
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  const { brokerRelease } = await import('@crm/infra');
  const kafkaVersion = `${brokerRelease(e.kafkaBrokers)} (cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s))`;

  const base = e.schemaRegistryUrl.replace(/\/apis\/ccompat\/v7\/?$/, '');
  const res = await fetch(`${base}/apis/registry/v3/system/info`);
  const sys = res.ok ? ((await res.json()) as { name?: string; version?: string }) : {};
  return {
    kafka: kafkaVersion,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    registry: `${sys.name ?? 'schema registry'} ${sys.version ?? ''}`.trim(),
  };
}
