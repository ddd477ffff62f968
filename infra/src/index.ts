/**
 * Local infrastructure without Docker: one call starts a real Kafka broker, Redis and schema
 * registry on loopback and waits until each answers; one call stops them. Both idempotent.
 */
import { mkdirSync } from 'node:fs';
import { type InfraConfig, InfraError, infraConfig } from './config.ts';
import { kafkaDaemon, kafkaHealthy, kafkaVersion, startKafka } from './kafka.ts';
import { logFile, runningPid, stopDaemon } from './process.ts';
import { redisDaemon, redisHealthy, startRedis } from './redis.ts';
import { registryDaemon, registryHealthy, startRegistry } from './registry.ts';

export { InfraError, type InfraConfig, infraConfig } from './config.ts';
export { ensureKafkaJars, kafkaDaemon, kafkaLibDir, kafkaVersion, startKafka } from './kafka.ts';
export { runningPid, stopDaemon } from './process.ts';
export { findJava } from './java.ts';
export { ensureDebianTool } from './debian.ts';
export { createTopicsAndWait } from './topics.ts';
export { freePort, freePorts } from './ports.ts';
export { brokerRelease, listenerPid, localPort } from './versions.ts';
export { callHttp, type HttpOptions } from './http.ts';
export {
  type CertFiles,
  downSecure,
  envFileText,
  SECURE_PORT_OFFSET,
  type SecureConfig,
  type SecureProfile,
  type SecureServerStatus,
  type SecureUpResult,
  secureConfig,
  secureProfile,
  secureRequested,
  secureRunning,
  statusSecure,
  upSecure,
} from './secure/index.ts';

export interface Endpoints {
  kafkaBrokers: string;
  redisUrl: string;
  schemaRegistryUrl: string;
}

export interface UpResult extends Endpoints {
  versions: { kafka: string; redis: string; registry: string };
  /** Which servers this call started (the others were already running). */
  started: string[];
}

export function endpoints(cfg: InfraConfig = infraConfig()): Endpoints {
  return {
    kafkaBrokers: `127.0.0.1:${cfg.kafkaPort}`,
    redisUrl: `redis://127.0.0.1:${cfg.redisPort}`,
    schemaRegistryUrl: `http://127.0.0.1:${cfg.registryPort}/apis/ccompat/v7`,
  };
}

/**
 * Starts whatever is not running yet (in parallel) and waits until all three answer. When one
 * fails, those this call started are stopped again (what was running stays), and the error
 * names every server that failed.
 */
export async function up(cfg: InfraConfig = infraConfig()): Promise<UpResult> {
  mkdirSync(cfg.stateDir, { recursive: true });
  const names = ['kafka', 'redis', 'registry'] as const;
  const results = await Promise.allSettled([startKafka(cfg), startRedis(cfg), startRegistry(cfg)]);
  const started = names.filter((_, i) => {
    const r = results[i];
    return r?.status === 'fulfilled' && r.value.started;
  });
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) {
    await down(cfg, started);
    const message = failed.map((e) => (e instanceof Error ? e.message : String(e))).join('\n');
    throw failed.length === 1 && failed[0] instanceof InfraError ? failed[0] : new InfraError(message);
  }
  const [kafka, redis, registry] = results.map((r) => (r as PromiseFulfilledResult<{ version: string }>).value.version);
  return { ...endpoints(cfg), versions: { kafka: kafka ?? '', redis: redis ?? '', registry: registry ?? '' }, started: [...started] };
}

/**
 * Stops the servers infra started (all three, or only those named: what one `up` call started);
 * returns the names of those it stopped.
 */
export async function down(cfg: InfraConfig = infraConfig(), only?: readonly string[]): Promise<string[]> {
  const daemons = [registryDaemon(cfg), kafkaDaemon(cfg), redisDaemon(cfg)].filter((d) => only === undefined || only.includes(d.name));
  const stopped = await Promise.all(daemons.map(async (d) => ((await stopDaemon(d)) ? d.name : null)));
  return stopped.filter((s): s is string => s !== null);
}

export interface ServerStatus {
  name: string;
  pid: number | null;
  healthy: boolean;
  detail: string;
  log: string;
}

export async function status(cfg: InfraConfig = infraConfig()): Promise<ServerStatus[]> {
  const probe = async (name: string, pid: number | null, check: () => Promise<string | undefined>, log: string): Promise<ServerStatus> => {
    try {
      const detail = await check();
      return { name, pid, healthy: detail !== undefined, detail: detail ?? 'not answering', log };
    } catch (err) {
      return { name, pid, healthy: false, detail: (err as Error).message, log };
    }
  };
  return Promise.all([
    probe('kafka', runningPid(kafkaDaemon(cfg)), async () => ((await kafkaHealthy(cfg)) ? `Kafka ${kafkaVersion(cfg)}` : undefined), logFile(kafkaDaemon(cfg))),
    probe('redis', runningPid(redisDaemon(cfg)), async () => `Redis ${await redisHealthy(cfg)}`, logFile(redisDaemon(cfg))),
    probe('registry', runningPid(registryDaemon(cfg)), () => registryHealthy(cfg), logFile(registryDaemon(cfg))),
  ]);
}
