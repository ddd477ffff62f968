/**
 * The secured servers: Kafka with a SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN)
 * and an SSL listener that requires a client certificate; Redis on a TLS port only, with ACL
 * users (infra/redis/users.acl); the registry over HTTPS with basic auth.
 */
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaAnswers, type KafkaServer, singleNodeProperties } from '../kafka.ts';
import type { Daemon } from '../process.ts';
import { type RedisServer, redisAnswers } from '../redis.ts';
import { Redis, type RedisOptions } from 'ioredis';
import { type RegistryServer, registryAnswers } from '../registry.ts';
import { type CertFiles, writePrivate } from './certs.ts';
import type { SecureConfig } from './config.ts';

/** Kafka users, created when the storage is formatted. `broker` is the broker's own (inter-broker) login. */
export const KAFKA_USERS = ['crm', 'broker'] as const;
/** Redis ACL users (infra/redis/users.acl). */
export const REDIS_USERS = ['segmenter', 'reader', 'admin'] as const;
/** The registry's basic-auth user. */
export const REGISTRY_USER = 'crm';

export type Passwords = Record<`kafka-${(typeof KAFKA_USERS)[number]}` | `redis-${(typeof REDIS_USERS)[number]}` | 'registry-crm', string>;

const SCRAM_ITERATIONS = 8192;

export const secureDaemon = (cfg: SecureConfig, name: 'kafka' | 'redis' | 'registry'): Daemon => ({ name, stateDir: cfg.dir });

/** `--add-scram` arguments: salted credentials (PBKDF2, as SCRAM stores them), so no password is on a command line. */
function scramArgs(user: string, password: string): string[] {
  return (
    [
      ['SCRAM-SHA-256', 'sha256', 32],
      ['SCRAM-SHA-512', 'sha512', 64],
    ] as const
  ).flatMap(([mechanism, digest, length]) => {
    const salt = randomBytes(16);
    const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, length, digest);
    return [
      '--add-scram',
      `${mechanism}=[name=${user},iterations=${SCRAM_ITERATIONS},salt="${salt.toString('base64')}",saltedpassword="${salted.toString('base64')}"]`,
    ];
  });
}

/** Kafka's PEM values are single-line properties: newlines escaped. */
const pemProperty = (file: string) => readFileSync(file, 'utf8').trim().replace(/\n/g, '\\n');

function kafkaProperties(cfg: SecureConfig, certs: CertFiles, pw: Passwords, dataDir: string): string {
  const { kafkaPort: p, kafkaMtlsPort: m, kafkaControllerPort: c } = cfg;
  return singleNodeProperties(c, dataDir, [
    `listeners=SASL_SSL://127.0.0.1:${p},SSL://127.0.0.1:${m},CONTROLLER://127.0.0.1:${c}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${p},SSL://127.0.0.1:${m}`,
    // The controller speaks TLS with client certificates too: no plaintext port at all.
    'listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL,SSL:SSL',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN',
    'ssl.keystore.type=PEM',
    `ssl.keystore.certificate.chain=${pemProperty(certs.serverCert)}`,
    `ssl.keystore.key=${pemProperty(certs.serverKey)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.certificates=${pemProperty(certs.ca)}`,
    'ssl.client.auth=none',
    'listener.name.ssl.ssl.client.auth=required',
    'listener.name.controller.ssl.client.auth=required',
    // A client certificate's principal is its CN (User:crm-client), not the whole DN.
    'ssl.principal.mapping.rules=RULE:^CN=([^,]+).*$/$1/,DEFAULT',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${pw['kafka-broker']}";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_crm="${pw['kafka-crm']}";`,
  ]);
}

export function secureKafka(cfg: SecureConfig, certs: CertFiles, pw: Passwords): KafkaServer {
  return {
    daemon: secureDaemon(cfg, 'kafka'),
    dir: join(cfg.dir, 'kafka'),
    ports: [
      { port: cfg.kafkaPort, variable: 'CRM_SECURE_KAFKA_PORT' },
      { port: cfg.kafkaMtlsPort, variable: 'CRM_SECURE_KAFKA_MTLS_PORT' },
      { port: cfg.kafkaControllerPort, variable: 'CRM_SECURE_KAFKA_CONTROLLER_PORT' },
    ],
    properties: (dataDir) => kafkaProperties(cfg, certs, pw, dataDir),
    formatArgs: KAFKA_USERS.flatMap((u) => scramArgs(u, pw[`kafka-${u}`])),
    heap: ['-Xms256m', '-Xmx1g'],
    healthy: () =>
      kafkaAnswers({
        brokers: [`127.0.0.1:${cfg.kafkaPort}`],
        ssl: { ca: [readFileSync(certs.ca, 'utf8')] },
        sasl: { mechanism: 'scram-sha-512', username: 'crm', password: pw['kafka-crm'] },
      }),
  };
}

/**
 * The command rules of each user of docs/redis-acl.conf (the least-privilege lists): its line's
 * words after the name, less what the secured profile sets itself (on/off, key patterns, passwords).
 */
export function documentedRules(documented: string): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const line of documented.split('\n')) {
    const [word, name, ...rest] = line.trim().split(/\s+/);
    if (word !== 'user' || name === undefined) continue;
    rules.set(
      name,
      rest.filter((r) => !/^(on|off|nopass|resetpass|allkeys|resetkeys)$/.test(r) && !/^(%[RW]*)?~/.test(r) && !/^[<>#!]/.test(r)),
    );
  }
  return rules;
}

/**
 * infra/redis/users.acl with its comments dropped, each {{user}} replaced by the SHA-256 of the
 * user's password and each {{rules user ...}} by those users' command rules in `documented`
 * (docs/redis-acl.conf), merged in order without repeats.
 */
export function renderRedisAcl(template: string, pw: Passwords, documented: string): string {
  const rules = documentedRules(documented);
  return template
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) =>
      line
        .replace(/\{\{rules ([\w -]+)\}\}/g, (_, names: string) => {
          const merged = names
            .trim()
            .split(/\s+/)
            .flatMap((n) => {
              const r = rules.get(n);
              if (r === undefined) throw new Error(`infra/redis/users.acl names {{rules ${n}}}, which docs/redis-acl.conf does not define`);
              return r;
            });
          return [...new Set(merged)].join(' ');
        })
        .replace(/\{\{(\w+)\}\}/g, (_, user: string) => {
          const password = pw[`redis-${user}` as keyof Passwords];
          if (password === undefined) throw new Error(`infra/redis/users.acl names {{${user}}}, which has no password`);
          return createHash('sha256').update(password).digest('hex');
        }),
    )
    .join('\n')
    .concat('\n');
}

/** The documented least-privilege users: docs/redis-acl.conf beside infra/. */
export const documentedAclFile = (cfg: SecureConfig): string => join(cfg.base.infraDir, '..', 'docs', 'redis-acl.conf');

export function secureRedis(cfg: SecureConfig, certs: CertFiles, pw: Passwords): RedisServer {
  const dir = join(cfg.dir, 'redis');
  const aclFile = join(cfg.dir, 'users.acl');
  mkdirSync(cfg.dir, { recursive: true });
  writePrivate(aclFile, renderRedisAcl(readFileSync(join(cfg.base.infraDir, 'redis', 'users.acl'), 'utf8'), pw, readFileSync(documentedAclFile(cfg), 'utf8')));
  return {
    daemon: secureDaemon(cfg, 'redis'),
    dir,
    port: { port: cfg.redisPort, variable: 'CRM_SECURE_REDIS_PORT' },
    args: [
      '--port',
      '0',
      '--tls-port',
      String(cfg.redisPort),
      '--tls-cert-file',
      certs.serverCert,
      '--tls-key-file',
      certs.serverKey,
      '--tls-ca-cert-file',
      certs.ca,
      // A client certificate is checked when one is presented, not required: the ACL password authenticates.
      '--tls-auth-clients',
      'optional',
      '--aclfile',
      aclFile,
    ],
    healthy: () => redisAnswers(redisAdminOptions(cfg, certs, pw)),
  };
}

const redisAdminOptions = (cfg: SecureConfig, certs: CertFiles, pw: Passwords): RedisOptions => ({
  host: '127.0.0.1',
  port: cfg.redisPort,
  username: 'admin',
  password: pw['redis-admin'],
  tls: { ca: readFileSync(certs.ca, 'utf8') },
});

/** Makes a running secured Redis re-read its rendered ACL file (`ACL LOAD`, as admin): a changed template or documented list takes effect. */
export async function reloadRedisAcl(cfg: SecureConfig, certs: CertFiles, pw: Passwords): Promise<void> {
  const redis = new Redis({ ...redisAdminOptions(cfg, certs, pw), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.call('ACL', 'LOAD');
  } finally {
    redis.disconnect();
  }
}

/** Quarkus settings of the secure registry: HTTPS only (API and management) and basic auth on every path. */
function registryProperties(certs: CertFiles, cfg: SecureConfig, pw: Passwords): string {
  return [
    `quarkus.http.ssl-port=${cfg.registryPort}`,
    'quarkus.http.insecure-requests=disabled',
    `quarkus.http.ssl.certificate.files=${certs.serverCert}`,
    `quarkus.http.ssl.certificate.key-files=${certs.serverKey}`,
    'quarkus.management.ssl.certificate.files=' + certs.serverCert,
    'quarkus.management.ssl.certificate.key-files=' + certs.serverKey,
    'quarkus.http.auth.basic=true',
    'quarkus.security.users.embedded.enabled=true',
    'quarkus.security.users.embedded.plain-text=true',
    `quarkus.security.users.embedded.users.${REGISTRY_USER}=${pw['registry-crm']}`,
    `quarkus.security.users.embedded.roles.${REGISTRY_USER}=sr-admin`,
    'quarkus.http.auth.permission.everything.paths=/*',
    'quarkus.http.auth.permission.everything.policy=authenticated',
    '',
  ].join('\n');
}

export function secureRegistry(cfg: SecureConfig, certs: CertFiles, pw: Passwords): RegistryServer {
  const dataDir = join(cfg.dir, 'registry');
  mkdirSync(dataDir, { recursive: true });
  const props = join(dataDir, 'application.properties');
  writePrivate(props, registryProperties(certs, cfg, pw));
  return {
    daemon: secureDaemon(cfg, 'registry'),
    dataDir,
    port: cfg.registryPort,
    mgmtPort: cfg.registryMgmtPort,
    portVariable: 'CRM_SECURE_REGISTRY_PORT',
    jvmArgs: [`-Dquarkus.config.locations=${props}`],
    healthy: () =>
      registryAnswers(`https://127.0.0.1:${cfg.registryPort}`, {
        ca: readFileSync(certs.ca, 'utf8'),
        auth: { username: REGISTRY_USER, password: pw['registry-crm'] },
      }),
  };
}
