/**
 * The Docker path of the test environment: the same three servers as infra/ and
 * infra/docker-compose.yml, started by testcontainers. Not exercised in CI here (no Docker
 * engine on these machines).
 */
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';

export const IMAGES = {
  kafka: 'apache/kafka:4.1.2',
  redis: 'redis:7.4',
  registry: 'apicurio/apicurio-registry:3.3.3',
} as const;

export async function startContainers(): Promise<{
  endpoints: { kafkaBrokers: string; redisUrl: string; schemaRegistryUrl: string };
  stop: () => Promise<void>;
}> {
  // The broker must advertise the host port it is mapped to, so pick it up front.
  const kafkaHostPort = 19000 + Math.floor(Math.random() * 900);
  const kafka = new GenericContainer(IMAGES.kafka)
    .withExposedPorts({ container: 9092, host: kafkaHostPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${kafkaHostPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/));
  const redis = new GenericContainer(IMAGES.redis).withCommand(['redis-server', '--appendonly', 'yes']).withExposedPorts(6379);
  const registry = new GenericContainer(IMAGES.registry).withExposedPorts(8080).withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080));
  const started: StartedTestContainer[] = await Promise.all([kafka.start(), redis.start(), registry.start()]);
  const [k, r, s] = started as [StartedTestContainer, StartedTestContainer, StartedTestContainer];
  return {
    endpoints: {
      kafkaBrokers: `localhost:${kafkaHostPort}`,
      redisUrl: `redis://${r.getHost()}:${r.getMappedPort(6379)}`,
      schemaRegistryUrl: `http://${s.getHost()}:${s.getMappedPort(8080)}/apis/ccompat/v7`,
    },
    stop: async () => {
      await Promise.all([k.stop(), r.stop(), s.stop()]);
    },
  };
}
