/**
 * Where the secured local profile lives and listens: its own ports (the plain profile's plus
 * SECURE_PORT_OFFSET, each movable by a variable) and its own state folder `<stateDir>/secure`,
 * so that it runs next to the plain profile.
 */
import { join } from 'node:path';
import { type InfraConfig, InfraError, infraConfig, port } from '../config.ts';

/** Secure ports are the plain ones plus this, unless a variable moves them. */
export const SECURE_PORT_OFFSET = 100;

export interface SecureConfig {
  /** The plain profile's configuration (infra folder, plain ports). */
  base: InfraConfig;
  /** `<stateDir>/secure`: data, logs, pid files, certificates and secrets of the secured servers. */
  dir: string;
  certsDir: string;
  secretsDir: string;
  /** Kafka SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN). */
  kafkaPort: number;
  /** Kafka SSL listener that requires a client certificate (mutual TLS). */
  kafkaMtlsPort: number;
  /** KRaft controller listener (mutual TLS between the broker and its controller). */
  kafkaControllerPort: number;
  /** Redis TLS port (the plaintext port is off). */
  redisPort: number;
  /** Registry HTTPS port. */
  registryPort: number;
  /** Registry management interface (health), HTTPS too. */
  registryMgmtPort: number;
}

export function secureConfig(env: NodeJS.ProcessEnv = process.env, base: InfraConfig = infraConfig(env)): SecureConfig {
  const dir = join(base.stateDir, 'secure');
  const kafkaPort = port(env, 'CRM_SECURE_KAFKA_PORT', base.kafkaPort + SECURE_PORT_OFFSET);
  const registryPort = port(env, 'CRM_SECURE_REGISTRY_PORT', base.registryPort + SECURE_PORT_OFFSET);
  const cfg: SecureConfig = {
    base,
    dir,
    certsDir: join(dir, 'certs'),
    secretsDir: join(dir, 'secrets'),
    kafkaPort,
    kafkaMtlsPort: port(env, 'CRM_SECURE_KAFKA_MTLS_PORT', kafkaPort + 2),
    kafkaControllerPort: port(env, 'CRM_SECURE_KAFKA_CONTROLLER_PORT', base.kafkaControllerPort + SECURE_PORT_OFFSET),
    redisPort: port(env, 'CRM_SECURE_REDIS_PORT', base.redisPort + SECURE_PORT_OFFSET),
    registryPort,
    registryMgmtPort: registryPort + 1000,
  };
  const ports = {
    CRM_SECURE_KAFKA_PORT: cfg.kafkaPort,
    CRM_SECURE_KAFKA_MTLS_PORT: cfg.kafkaMtlsPort,
    CRM_SECURE_KAFKA_CONTROLLER_PORT: cfg.kafkaControllerPort,
    CRM_SECURE_REDIS_PORT: cfg.redisPort,
    CRM_SECURE_REGISTRY_PORT: cfg.registryPort,
    'CRM_SECURE_REGISTRY_PORT + 1000': cfg.registryMgmtPort,
    CRM_KAFKA_PORT: base.kafkaPort,
    CRM_KAFKA_CONTROLLER_PORT: base.kafkaControllerPort,
    CRM_REDIS_PORT: base.redisPort,
    CRM_REGISTRY_PORT: base.registryPort,
    'CRM_REGISTRY_PORT + 1000': base.registryPort + 1000,
  };
  const seen = new Map<number, string>();
  for (const [name, p] of Object.entries(ports)) {
    const other = seen.get(p);
    if (other !== undefined) throw new InfraError(`${name} and ${other} are both ${p}: every port of the plain and the secure profile must differ`);
    seen.set(p, name);
  }
  return cfg;
}

/** True when the secure profile is asked for by a variable (CRM_INFRA_SECURE=1). */
export function secureRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env['CRM_INFRA_SECURE'];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new InfraError(`CRM_INFRA_SECURE must be 1 (secure profile) or 0, got "${raw}"`);
}
