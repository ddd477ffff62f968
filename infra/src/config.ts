/**
 * Where the local infrastructure lives and listens. Everything binds to loopback; every
 * port and the state directory can be moved by environment variables so that two checkouts
 * (or a developer's own Kafka on 9092) never collide.
 */
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InfraConfig {
  /** Data, logs and pid files of the three servers. */
  stateDir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  redisPort: number;
  registryPort: number;
  /** The infra/ folder of this checkout (poms, log config). */
  infraDir: string;
}

export class InfraError extends Error {
  override name = 'InfraError';
}

/** The port in variable `name`, or `fallback` when unset; a clear error for anything else. */
export function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  // Decimal digits only: Number() also reads '1e4', '0x4A38' and ' 19092'.
  if (!/^\d+$/.test(raw) || n < 1024 || n > 65535) {
    throw new InfraError(`${name} must be a port number from 1024 to 65535, got "${raw}"`);
  }
  return n;
}

export function infraConfig(env: NodeJS.ProcessEnv = process.env): InfraConfig {
  const cfg: InfraConfig = {
    stateDir: env['CRM_INFRA_DIR'] || join(tmpdir(), `crm-infra-${userInfo().uid}`),
    // Non-default ports so a developer's own servers on 9092/6379/8081 stay untouched.
    kafkaPort: port(env, 'CRM_KAFKA_PORT', 19092),
    kafkaControllerPort: port(env, 'CRM_KAFKA_CONTROLLER_PORT', 19093),
    redisPort: port(env, 'CRM_REDIS_PORT', 16379),
    registryPort: port(env, 'CRM_REGISTRY_PORT', 18081),
    infraDir: fileURLToPath(new URL('..', import.meta.url)),
  };
  const ports = [cfg.kafkaPort, cfg.kafkaControllerPort, cfg.redisPort, cfg.registryPort];
  if (new Set(ports).size !== ports.length) {
    throw new InfraError(`CRM_KAFKA_PORT, CRM_KAFKA_CONTROLLER_PORT, CRM_REDIS_PORT and CRM_REGISTRY_PORT must differ, got ${ports.join(', ')}`);
  }
  return cfg;
}
