/**
 * The secured local profile: `upSecure()` makes a throwaway CA, certificates and passwords
 * (once per state folder), starts Kafka (SASL_SSL and mutual TLS), Redis (TLS, ACL users) and
 * the registry (HTTPS, basic auth) next to the plain profile, and returns the settings that
 * point a service at them, also written to `<stateDir>/secure/env`. `downSecure()` stops them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../config.ts';
import { kafkaVersion, startKafkaServer } from '../kafka.ts';
import { isAlive, logFile, runningPid, stopDaemon } from '../process.ts';
import { startRedisServer } from '../redis.ts';
import { startRegistryServer } from '../registry.ts';
import { type CertFiles, certFiles, ensureCerts, ensureSecret, writePrivate } from './certs.ts';
import { type SecureConfig, secureConfig } from './config.ts';
import { KAFKA_USERS, type Passwords, REDIS_USERS, REGISTRY_USER, reloadRedisAcl, secureDaemon, secureKafka, secureRedis, secureRegistry } from './servers.ts';

export { type SecureConfig, secureConfig, secureRequested, SECURE_PORT_OFFSET } from './config.ts';
export type { CertFiles } from './certs.ts';

export interface SecureProfile {
  /** SASL_SSL listener, `host:port`. */
  kafkaBrokers: string;
  /** SSL listener requiring a client certificate, `host:port`. */
  kafkaMtlsBrokers: string;
  /** `rediss://127.0.0.1:<port>`. */
  redisUrl: string;
  /** `https://127.0.0.1:<port>/apis/ccompat/v7`. */
  schemaRegistryUrl: string;
  certs: CertFiles;
  /** Every user and the file holding its password. */
  users: {
    kafka: { username: string; passwordFile: string };
    redisSegmenter: { username: string; passwordFile: string };
    redisReader: { username: string; passwordFile: string };
    redisAdmin: { username: string; passwordFile: string };
    registry: { username: string; passwordFile: string };
  };
  /** The settings a service exports to use the secured servers (Kafka over SASL_SSL with SCRAM-SHA-512, Redis as `segmenter`). */
  env: Record<string, string>;
  /** Overrides of `env` for Kafka over mutual TLS instead of SASL. */
  mtlsEnv: Record<string, string>;
  /** Overrides of `env` for a read-only service (profile API, console): Redis as `reader`. */
  readerEnv: Record<string, string>;
  /** The sourceable file holding all of the above. */
  envFile: string;
}

export interface SecureUpResult extends SecureProfile {
  versions: { kafka: string; redis: string; registry: string };
  /** Which servers this call started (the others were already running). */
  started: string[];
}

function passwords(cfg: SecureConfig): Passwords {
  const names = [...KAFKA_USERS.map((u) => `kafka-${u}`), ...REDIS_USERS.map((u) => `redis-${u}`), `registry-${REGISTRY_USER}`];
  return Object.fromEntries(names.map((n) => [n, ensureSecret(cfg.secretsDir, n).value])) as Passwords;
}

const secretFile = (cfg: SecureConfig, name: string) => join(cfg.secretsDir, `${name}.password`);

/** The profile's endpoints, files and settings (nothing is started or created). */
export function secureProfile(cfg: SecureConfig = secureConfig()): SecureProfile {
  const certs = certFiles(cfg.certsDir);
  const user = (username: string, secret: string) => ({ username, passwordFile: secretFile(cfg, secret) });
  const users = {
    kafka: user('crm', 'kafka-crm'),
    redisSegmenter: user('segmenter', 'redis-segmenter'),
    redisReader: user('reader', 'redis-reader'),
    redisAdmin: user('admin', 'redis-admin'),
    registry: user(REGISTRY_USER, `registry-${REGISTRY_USER}`),
  };
  const kafkaBrokers = `127.0.0.1:${cfg.kafkaPort}`;
  const kafkaMtlsBrokers = `127.0.0.1:${cfg.kafkaMtlsPort}`;
  const redisUrl = `rediss://127.0.0.1:${cfg.redisPort}`;
  const schemaRegistryUrl = `https://127.0.0.1:${cfg.registryPort}/apis/ccompat/v7`;
  const env = {
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: users.kafka.username,
    KAFKA_SASL_PASSWORD_FILE: users.kafka.passwordFile,
    KAFKA_SSL_CA_FILE: certs.ca,
    REDIS_URL: redisUrl,
    REDIS_USERNAME: users.redisSegmenter.username,
    REDIS_PASSWORD_FILE: users.redisSegmenter.passwordFile,
    REDIS_TLS_CA_FILE: certs.ca,
    REDIS_TLS_CERT_FILE: certs.clientCert,
    REDIS_TLS_KEY_FILE: certs.clientKey,
    REDIS_READER_USERNAME: users.redisReader.username,
    REDIS_READER_PASSWORD_FILE: users.redisReader.passwordFile,
    SCHEMA_REGISTRY_URL: schemaRegistryUrl,
    SCHEMA_REGISTRY_CA_FILE: certs.ca,
    SCHEMA_REGISTRY_USERNAME: users.registry.username,
    SCHEMA_REGISTRY_PASSWORD_FILE: users.registry.passwordFile,
  };
  const mtlsEnv = {
    KAFKA_BROKERS: kafkaMtlsBrokers,
    KAFKA_SECURITY_PROTOCOL: 'SSL',
    KAFKA_SSL_CA_FILE: certs.ca,
    KAFKA_SSL_CERT_FILE: certs.clientCert,
    KAFKA_SSL_KEY_FILE: certs.clientKey,
  };
  const readerEnv = { REDIS_USERNAME: users.redisReader.username, REDIS_PASSWORD_FILE: users.redisReader.passwordFile };
  return { kafkaBrokers, kafkaMtlsBrokers, redisUrl, schemaRegistryUrl, certs, users, env, mtlsEnv, readerEnv, envFile: join(cfg.dir, 'env') };
}

const exportLines = (vars: Record<string, string>, prefix = '') => Object.entries(vars).map(([k, v]) => `${prefix}export ${k}=${shellQuote(v)}`);
const shellQuote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The sourceable env file: the SASL_SSL settings, then the mutual-TLS and read-only variants as commented blocks. */
export function envFileText(p: SecureProfile): string {
  return [
    '# Secured local profile (./bin/pnpm infra up --secure). Source it: . <this file>',
    '# Kafka over SASL_SSL (SCRAM-SHA-512; SCRAM-SHA-256 and PLAIN work with the same user),',
    '# Redis over TLS as the ACL user `segmenter`, the registry over HTTPS with basic auth.',
    ...exportLines(p.env),
    '',
    '# Kafka over mutual TLS instead (client certificate, no password): uncomment.',
    ...exportLines(p.mtlsEnv, '# '),
    '',
    '# A read-only service (profile API, console): Redis as the ACL user `reader`. Uncomment.',
    ...exportLines(p.readerEnv, '# '),
    '',
  ].join('\n');
}

/** Serialises concurrent `upSecure` calls (parallel test workers) with a lock folder holding the owner's pid. */
async function withLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const lock = join(dir, 'up.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writePrivate(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = existsSync(join(lock, 'pid')) ? Number(readFileSync(join(lock, 'pid'), 'utf8')) : 0;
      if (owner > 0 && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new InfraError(`${lock} is held by process ${owner || '?'} for more than ${timeoutMs / 1000} s`);
      else await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Starts whatever of the secured servers is not running yet and waits until all three answer over TLS. */
export async function upSecure(cfg: SecureConfig = secureConfig()): Promise<SecureUpResult> {
  return withLock(cfg.dir, async () => {
    const certs = await ensureCerts(cfg.certsDir);
    const pw = passwords(cfg);
    const [kafka, redis, registry] = await Promise.all([
      startKafkaServer(cfg.base, secureKafka(cfg, certs, pw)),
      startRedisServer(secureRedis(cfg, certs, pw)),
      startRegistryServer(cfg.base, secureRegistry(cfg, certs, pw)),
    ]);
    // A Redis that was already running gets the ACL file rendered just now.
    if (!redis.started) await reloadRedisAcl(cfg, certs, pw);
    const profile = secureProfile(cfg);
    writePrivate(profile.envFile, envFileText(profile));
    const started = [kafka.started && 'kafka', redis.started && 'redis', registry.started && 'registry'].filter((s): s is string => typeof s === 'string');
    return { ...profile, versions: { kafka: kafka.version, redis: redis.version, registry: registry.version }, started };
  });
}

/** Stops the secured servers (all, or only those named); returns the names of those it stopped. Certificates and secrets stay. */
export async function downSecure(cfg: SecureConfig = secureConfig(), only?: readonly string[]): Promise<string[]> {
  const names = (['registry', 'kafka', 'redis'] as const).filter((n) => only === undefined || only.includes(n));
  const stopped = await Promise.all(names.map(async (n): Promise<string | null> => ((await stopDaemon(secureDaemon(cfg, n))) ? n : null)));
  return stopped.filter((s): s is string => s !== null);
}

/** True when any secured server started by infra is running. */
export function secureRunning(cfg: SecureConfig = secureConfig()): boolean {
  return (['kafka', 'redis', 'registry'] as const).some((n) => runningPid(secureDaemon(cfg, n)) !== null);
}

export interface SecureServerStatus {
  name: string;
  pid: number | null;
  healthy: boolean;
  detail: string;
  log: string;
}

export async function statusSecure(cfg: SecureConfig = secureConfig()): Promise<SecureServerStatus[]> {
  const certs = certFiles(cfg.certsDir);
  const ready = Object.values(certs).every((f) => existsSync(f)) && existsSync(cfg.secretsDir);
  const pw = ready ? passwords(cfg) : null;
  const servers = pw
    ? { kafka: secureKafka(cfg, certs, pw).healthy, redis: secureRedis(cfg, certs, pw).healthy, registry: secureRegistry(cfg, certs, pw).healthy }
    : null;
  return Promise.all(
    (['kafka', 'redis', 'registry'] as const).map(async (name) => {
      const d = secureDaemon(cfg, name);
      const base = { name, pid: runningPid(d), log: logFile(d) };
      if (servers === null) return { ...base, healthy: false, detail: 'never started (no certificates yet)' };
      if (base.pid === null) return { ...base, healthy: false, detail: 'not running' };
      try {
        const answer = await servers[name]();
        const detail =
          answer === undefined ? 'not answering' : name === 'kafka' ? `Kafka ${kafkaVersion(cfg.base)}` : name === 'redis' ? `Redis ${answer}` : answer;
        return { ...base, healthy: answer !== undefined, detail };
      } catch (err) {
        return { ...base, healthy: false, detail: (err as Error).message };
      }
    }),
  );
}
