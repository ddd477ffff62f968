/**
 * A single-node Apache Kafka 4 broker in KRaft combined mode (broker + controller in one
 * JVM), from the jars infra/kafka/pom.xml pins. Broker-side topic auto-creation is off:
 * the project's code creates its topics.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { type InfraConfig, InfraError } from './config.ts';
import { findJava, mvn } from './java.ts';
import { type Daemon, ensurePortsFree, run, runningPid, startDaemon, waitHealthy } from './process.ts';

/** Kafka 4 runs on Java 17+. */
const KAFKA_MIN_JAVA = 17;
/** Heap for the local broker: enough for the benchmark's million events, small beside 24 GiB. */
const KAFKA_HEAP = ['-Xms512m', '-Xmx2g'];

export const kafkaDaemon = (cfg: InfraConfig): Daemon => ({ name: 'kafka', stateDir: cfg.stateDir });

export function kafkaLibDir(cfg: InfraConfig): string {
  return join(cfg.infraDir, 'kafka', 'target', 'lib');
}

/** The broker's version, read from the pinned jar's name. */
export function kafkaVersion(cfg: InfraConfig): string {
  const jar = existsSync(kafkaLibDir(cfg)) ? readdirSync(kafkaLibDir(cfg)).find((f) => /^kafka_2\.13-.*\.jar$/.test(f)) : undefined;
  return jar?.replace(/^kafka_2\.13-(.*)\.jar$/, '$1') ?? 'unknown';
}

/** Resolves the broker jars from Maven Central once; later runs reuse them. */
export async function ensureKafkaJars(cfg: InfraConfig): Promise<void> {
  if (kafkaVersion(cfg) !== 'unknown') return;
  await mvn(join(cfg.infraDir, 'kafka', 'pom.xml'), ['dependency:copy-dependencies'], 'fetching the Kafka broker jars');
  if (kafkaVersion(cfg) === 'unknown') throw new InfraError(`no kafka_2.13 jar in ${kafkaLibDir(cfg)} after Maven ran`);
}

/** A single KRaft node (broker and controller in one JVM): `listeners` are its listener settings, the rest is shared by both profiles. */
export function singleNodeProperties(controllerPort: number, dataDir: string, listeners: string[]): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    ...listeners,
    `log.dirs=${dataDir}`,
    // Our code creates topics with the configured partition count.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    // Single node: internal topics cannot have more than one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join groups constantly: do not wait 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=-1',
    '',
  ].join('\n');
}

function serverProperties(cfg: InfraConfig, dataDir: string): string {
  const p = cfg.kafkaPort;
  const c = cfg.kafkaControllerPort;
  return singleNodeProperties(c, dataDir, [
    `listeners=PLAINTEXT://127.0.0.1:${p},CONTROLLER://127.0.0.1:${c}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  ]);
}

/** The cluster id when the broker at `brokers` answers a metadata request as `client` sees it. */
export async function kafkaAnswers(client: Omit<KafkaConfig, 'clientId' | 'logLevel' | 'retry' | 'connectionTimeout'>): Promise<string | undefined> {
  const kafka = new Kafka({ ...client, clientId: 'crm-infra-health', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? cluster.clusterId : undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function kafkaHealthy(cfg: InfraConfig): Promise<string | undefined> {
  return kafkaAnswers({ brokers: [`127.0.0.1:${cfg.kafkaPort}`] });
}

/** One broker to start: the plain profile's or the secure one's. */
export interface KafkaServer {
  daemon: Daemon;
  /** Its folder: server.properties and data/. */
  dir: string;
  /** Ports it binds, each with the variable that moves it. */
  ports: { port: number; variable: string }[];
  properties(dataDir: string): string;
  /** Extra `kafka-storage format` arguments (SCRAM users). */
  formatArgs: string[];
  heap: string[];
  healthy(): Promise<string | undefined>;
}

const plainKafka = (cfg: InfraConfig): KafkaServer => ({
  daemon: kafkaDaemon(cfg),
  dir: join(cfg.stateDir, 'kafka'),
  ports: [
    { port: cfg.kafkaPort, variable: 'CRM_KAFKA_PORT' },
    { port: cfg.kafkaControllerPort, variable: 'CRM_KAFKA_CONTROLLER_PORT' },
  ],
  properties: (dataDir) => serverProperties(cfg, dataDir),
  formatArgs: [],
  heap: KAFKA_HEAP,
  healthy: () => kafkaHealthy(cfg),
});

export function startKafka(cfg: InfraConfig): Promise<{ version: string; started: boolean }> {
  return startKafkaServer(cfg, plainKafka(cfg));
}

export async function startKafkaServer(cfg: InfraConfig, server: KafkaServer): Promise<{ version: string; started: boolean }> {
  const d = server.daemon;
  const existing = runningPid(d);
  if (existing !== null) {
    await waitHealthy(d, existing, server.healthy, 60_000, 'the running broker does not answer metadata requests');
    return { version: kafkaVersion(cfg), started: false };
  }
  await ensurePortsFree(server.ports, 'Kafka');
  const java = findJava(KAFKA_MIN_JAVA, 'the Kafka broker');
  await ensureKafkaJars(cfg);
  const dataDir = join(server.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const props = join(server.dir, 'server.properties');
  // Owner-only: the secure broker's properties hold its own password and PLAIN users.
  writeFileSync(props, server.properties(dataDir), { mode: 0o600 });
  chmodSync(props, 0o600);
  const classpath = join(kafkaLibDir(cfg), '*');
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const clusterId = randomUUID().replace(/-/g, '').slice(0, 22);
    await run(
      java,
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted', ...server.formatArgs],
      'formatting Kafka storage',
    );
  }
  const log4j = join(cfg.infraDir, 'kafka', 'log4j2.yaml');
  const pid = startDaemon(d, java, [...server.heap, '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath, 'kafka.Kafka', props]);
  await waitHealthy(d, pid, server.healthy, 90_000, 'the broker never answered a metadata request');
  return { version: kafkaVersion(cfg), started: true };
}
