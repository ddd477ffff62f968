/**
 * How every client of the project reaches its servers: Kafka (SASL and TLS), Redis (an ACL user,
 * TLS) and the schema registry (basic auth, TLS), from one set of variables read once at boot.
 * Services, the CLI, the demo, the benchmark and the test helpers all build their clients from
 * these settings, so one environment secures them all (README, "Security").
 *
 * What keeps this safe:
 * - passwords come from files (`*_PASSWORD_FILE`; the bare `*_PASSWORD` variables are accepted
 *   for platforms that only inject variables; setting both is a configuration error, so there
 *   is never a doubt which one is in force);
 * - every password read here, and every password found inside a URL, is registered with
 *   secrets.ts, so the logger and the error paths mask it wherever it shows up;
 * - a setting that cannot take effect (a CA for a plaintext connection, a certificate without
 *   its key, a SASL mechanism without a user) is a ConfigError naming the variable, never
 *   silently ignored;
 * - `display` strings (URLs without passwords) are what messages show of a connection.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { Redis, RedisOptions } from 'ioredis';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, type Env, type EnvIssue, invalidConfiguration, parseEnv } from './config.ts';
import { MASK, registerSecret } from './secrets.ts';

/** Issues found while reading one connection's settings; thrown together as one ConfigError. */
class Issues {
  readonly list: EnvIssue[] = [];
  add(variable: string, message: string): void {
    this.list.push({ variable, message, got: undefined });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw invalidConfiguration(this.list);
  }
}

/** `env` restricted to `names`, empty values dropped (a platform's empty variable means unset). */
function pick(env: Env, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') out[n] = v;
  }
  return out;
}

function readFile(variable: string, path: string, issues: Issues): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    issues.add(variable, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    return undefined;
  }
}

/**
 * The secret `<name>_FILE` points at (its content without one trailing newline), else `<name>`'s
 * value; registered as a secret. Both set, an unreadable or empty file: an issue.
 */
function secret(env: Record<string, string>, name: string, issues: Issues): string | undefined {
  const file = env[`${name}_FILE`];
  const plain = env[name];
  if (file !== undefined && plain !== undefined) {
    issues.add(`${name}_FILE`, `${name}_FILE and ${name} are both set: keep one (the file is preferred)`);
    return undefined;
  }
  if (plain !== undefined) return registerSecret(plain);
  if (file === undefined) return undefined;
  const content = readFile(`${name}_FILE`, file, issues)
    ?.toString('utf8')
    .replace(/\r?\n$/, '');
  if (content === '') issues.add(`${name}_FILE`, `the secret file ${file} is empty`);
  return content === undefined || content === '' ? undefined : registerSecret(content);
}

/** The secret in the file `variable` names (see `secret`); throws a ConfigError naming the variable when unreadable or empty. */
export function secretFile(variable: string, path: string): string {
  const issues = new Issues();
  const name = variable.replace(/_FILE$/, '');
  const value = secret({ [`${name}_FILE`]: path }, name, issues);
  issues.throwIfAny();
  return value as string;
}

/** The PEM files of a TLS client: CA, and certificate plus key for mutual TLS (both or neither). */
function tlsFiles(env: Record<string, string>, vars: { ca: string; cert: string; key: string }, issues: Issues): ConnectionOptions {
  const opts: ConnectionOptions = {};
  const ca = env[vars.ca];
  const cert = env[vars.cert];
  const key = env[vars.key];
  if (ca !== undefined) opts.ca = readFile(vars.ca, ca, issues);
  if ((cert === undefined) !== (key === undefined)) {
    const [missing, given] = cert === undefined ? [vars.cert, vars.key] : [vars.key, vars.cert];
    issues.add(missing, `is required with ${given}: mutual TLS needs the certificate and its key`);
  } else if (cert !== undefined && key !== undefined) {
    opts.cert = readFile(vars.cert, cert, issues);
    opts.key = readFile(vars.key, key, issues);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Kafka

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
const SASL_MECHANISMS = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' } as const;

const KAFKA_VARS = {
  ca: 'KAFKA_SSL_CA_FILE',
  cert: 'KAFKA_SSL_CERT_FILE',
  key: 'KAFKA_SSL_KEY_FILE',
} as const;
const KafkaEnv = z.object({
  KAFKA_SECURITY_PROTOCOL: z.enum(KAFKA_SECURITY_PROTOCOLS, { error: `must be one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}` }).default('PLAINTEXT'),
  KAFKA_SASL_MECHANISM: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], { error: 'must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512' }).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
});
const KAFKA_NAMES = [...Object.keys(KafkaEnv.shape), 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE', ...Object.values(KAFKA_VARS)];

export interface KafkaConnection {
  brokers: string[];
  protocol: KafkaSecurityProtocol;
  /** kafkajs `ssl`: present for SSL and SASL_SSL. */
  ssl: ConnectionOptions | undefined;
  /** kafkajs `sasl`: present for SASL_PLAINTEXT and SASL_SSL. */
  sasl: SASLOptions | undefined;
}

/** Kafka's settings: `brokers` (from KAFKA_BROKERS, validated by the caller) and the KAFKA_SECURITY_PROTOCOL family. */
export function kafkaConnection(env: Env, brokers: readonly string[]): KafkaConnection {
  const raw = pick(env, KAFKA_NAMES);
  const e = parseEnv(KafkaEnv, raw);
  const issues = new Issues();
  const protocol = e.KAFKA_SECURITY_PROTOCOL;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  let ssl: ConnectionOptions | undefined;
  if (tls) ssl = tlsFiles(raw, KAFKA_VARS, issues);
  else for (const v of Object.values(KAFKA_VARS)) if (raw[v] !== undefined) issues.add(v, `needs KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL (it is ${protocol})`);
  const password = secret(raw, 'KAFKA_SASL_PASSWORD', issues);
  let saslOptions: SASLOptions | undefined;
  if (sasl) {
    if (e.KAFKA_SASL_MECHANISM === undefined)
      issues.add('KAFKA_SASL_MECHANISM', `is required with KAFKA_SECURITY_PROTOCOL=${protocol}: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
    if (e.KAFKA_SASL_USERNAME === undefined) issues.add('KAFKA_SASL_USERNAME', `is required with KAFKA_SECURITY_PROTOCOL=${protocol}`);
    if (password === undefined && raw['KAFKA_SASL_PASSWORD_FILE'] === undefined) {
      issues.add('KAFKA_SASL_PASSWORD_FILE', `is required with KAFKA_SECURITY_PROTOCOL=${protocol} (or KAFKA_SASL_PASSWORD)`);
    }
    if (e.KAFKA_SASL_MECHANISM !== undefined && e.KAFKA_SASL_USERNAME !== undefined && password !== undefined) {
      saslOptions = { mechanism: SASL_MECHANISMS[e.KAFKA_SASL_MECHANISM], username: e.KAFKA_SASL_USERNAME, password };
    }
  } else {
    for (const v of ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE']) {
      if (raw[v] !== undefined) issues.add(v, `needs KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL (it is ${protocol})`);
    }
  }
  issues.throwIfAny();
  return { brokers: [...brokers], protocol, ssl, sasl: saslOptions };
}

/** A kafkajs configuration: `options` (clientId, logging, retries) on the connection's brokers, TLS and SASL. */
export function kafkaOptions(conn: KafkaConnection, options: Omit<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> = {}): KafkaConfig {
  return { ...options, brokers: conn.brokers, ...(conn.ssl === undefined ? {} : { ssl: conn.ssl }), ...(conn.sasl === undefined ? {} : { sasl: conn.sasl }) };
}

// ---------------------------------------------------------------------------------------------
// Redis

const REDIS_TLS_VARS = { ca: 'REDIS_TLS_CA_FILE', cert: 'REDIS_TLS_CERT_FILE', key: 'REDIS_TLS_KEY_FILE' } as const;
const REDIS_NAMES = ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_PASSWORD_FILE', ...Object.values(REDIS_TLS_VARS)];

export interface RedisConnection {
  /** The URL with any password masked: what messages show. */
  display: string;
  /** ioredis options: host, port, db, username, password, tls. */
  options: RedisOptions;
}

/** Redis's settings: `url` (REDIS_URL, redis:// or rediss://, validated by the caller) and the REDIS_* family. */
export function redisConnection(env: Env, url: string): RedisConnection {
  const raw = pick(env, REDIS_NAMES);
  const issues = new Issues();
  const parsed = parseUrl(url, 'REDIS_URL', ['redis:', 'rediss:']);
  const tls = parsed.protocol === 'rediss:';
  const options: RedisOptions = { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: parsed.port === '' ? 6379 : Number(parsed.port) };
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') {
    if (/^\d+$/.test(db)) options.db = Number(db);
    else issues.add('REDIS_URL', 'the path must be a database number, e.g. redis://host:6379/0');
  }
  const { username, password: pass, urlPassword } = credentials(raw, parsed, 'REDIS', issues);
  if (username !== undefined && pass === undefined && raw['REDIS_PASSWORD_FILE'] === undefined)
    issues.add('REDIS_USERNAME', 'needs a password: set REDIS_PASSWORD_FILE');
  if (username !== undefined) options.username = username;
  if (pass !== undefined) options.password = pass;
  if (tls) options.tls = tlsFiles(raw, REDIS_TLS_VARS, issues);
  else for (const v of Object.values(REDIS_TLS_VARS)) if (raw[v] !== undefined) issues.add(v, 'needs a rediss:// REDIS_URL (TLS)');
  issues.throwIfAny();
  // The URL as given, its password (if any) masked.
  const who = parsed.username === '' && urlPassword === undefined ? '' : `${parsed.username}${urlPassword === undefined ? '' : `:${MASK}`}@`;
  return { display: `${parsed.protocol}//${who}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`, options };
}

/** ioredis options: `options` (retries, pipelining) on the connection's host, credentials and TLS. */
export function redisOptions(conn: RedisConnection, options: RedisOptions = {}): RedisOptions {
  return { ...options, ...conn.options };
}

/** Replies of a Redis that refuses the client's user or password. */
const REDIS_AUTH_REFUSED = /^(WRONGPASS|NOAUTH)|invalid (username-)?password|AUTH failed/i;

/** Whether Redis refused the client's user or password (a configuration problem, not an outage). */
export function redisRefusedCredentials(err: Error): boolean {
  return REDIS_AUTH_REFUSED.test(err.message);
}

/** The ACL user the connection logs in as (Redis' `default` when none is set). */
const redisUser = (conn: RedisConnection): string => conn.options.username ?? 'default';

/**
 * One line that says what is wrong with a Redis connection error: for refused credentials, which
 * variables to check. Never quotes the password (ioredis keeps AUTH's arguments on the error, not
 * in its message; the display URL has the password masked).
 */
export function describeRedisError(err: Error, conn: RedisConnection): string {
  const message = err.message.split('\n')[0] ?? '';
  if (redisRefusedCredentials(err))
    return `Redis at ${conn.display} refused the credentials of user ${redisUser(conn)} (${message}): check REDIS_USERNAME and REDIS_PASSWORD_FILE`;
  if (TLS_UNTRUSTED.test(message))
    return `Redis at ${conn.display}: its TLS certificate is not trusted (${message.replace(/; if the root CA .*$/, '')}): check REDIS_TLS_CA_FILE (the CA that signed the server's certificate)`;
  if (conn.options.tls === undefined && /ECONNRESET|Connection is closed/.test(message))
    return `Redis at ${conn.display}: ${message}: if the server listens with TLS, use rediss:// in REDIS_URL`;
  return `Redis at ${conn.display}: ${message}`;
}

/**
 * Refused credentials are a configuration problem, not an outage: `err` as a ConfigError (the
 * process exits 78 with one line naming the variables), or `err` itself for anything else.
 */
export function refusedAsConfigError(err: unknown, conn: RedisConnection): unknown {
  if (!(err instanceof Error && redisRefusedCredentials(err))) return err;
  // The reason was logged already, by the service's listener of the connection's errors
  // (logRedisErrors, or the segmenter's own); this is the stop, in one line of its own.
  return new ConfigError(`stopping: Redis at ${conn.display} refused user ${redisUser(conn)}: fix REDIS_USERNAME / REDIS_PASSWORD_FILE and restart`, {
    cause: err,
  });
}

/**
 * Waits for `redis` (connecting on its own) to say whether it accepts the credentials: resolves
 * once it is ready, and also as soon as it is unreachable or slow to answer (an outage the
 * service rides out as not ready); rejects with a ConfigError when Redis refuses the user or
 * password, so that a service with wrong settings stops at start (exit 78), as it does when
 * Kafka refuses them.
 */
export function checkRedisCredentials(redis: Redis, conn: RedisConnection, waitMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (then: () => void) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      then();
    };
    const onReady = () => settle(resolve);
    const onError = (err: Error) => {
      const refused = refusedAsConfigError(err, conn);
      settle(() => (refused === err ? resolve() : reject(refused)));
    };
    const timer = setTimeout(() => settle(resolve), waitMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * Logs `redis`'s connection errors as one line each time the error changes (ioredis retries
 * every few hundred ms: a line per retry would flood the log), and the recovery. Without a
 * listener ioredis prints every error's stack on stderr itself.
 */
export function logRedisErrors(redis: Redis, conn: RedisConnection, log: Logger): void {
  let last: string | undefined;
  redis.on('error', (err: Error) => {
    const line = describeRedisError(err, conn);
    if (line === last) return;
    last = line;
    // The line says it all; a socket error's stack is Node's internals, and the error's
    // command may hold AUTH's arguments.
    log.error({ err: { type: err.name, code: (err as { code?: unknown }).code } }, line);
  });
  redis.on('ready', () => {
    if (last !== undefined) log.info(`Redis at ${conn.display}: connected again`);
    last = undefined;
  });
}

/** `err` and the errors it wraps (`cause`, kafkajs' `originalError`), outermost first. */
function errorChain(err: unknown): Array<{ name: string; message: string }> {
  const out: Array<{ name: string; message: string }> = [];
  let e: unknown = err;
  while (e instanceof Error && out.length < 8) {
    out.push({ name: e.name, message: e.message.split('\n')[0] ?? '' });
    e = e.cause ?? (e as { originalError?: unknown }).originalError;
  }
  return out;
}

/** Node's verdicts on a server certificate that the configured CAs do not vouch for. */
const TLS_UNTRUSTED =
  /self[- ]signed certificate|unable to (get|verify) .*certificate|certificate has expired|does not match certificate|Hostname\/IP does not match/i;

/** A start failure that settings cause: `reason` names the variables to check; `config`: restarting will not help. */
export interface ConnectionFailure {
  reason: string;
  config: boolean;
}

/**
 * What a Kafka client's failure to connect says about the settings, in one line naming the
 * variables to check: credentials refused, a broker certificate the CA does not vouch for, or a
 * listener that closed a client of another protocol. Undefined for anything else (a broker that
 * is down says so itself). Never quotes a password: kafkajs' messages hold none.
 */
export function describeKafkaFailure(err: unknown): ConnectionFailure | undefined {
  const chain = errorChain(err);
  return kafkaFailure(chain);
}

/**
 * A service's start failure that a connection explains, in one line: Kafka's (describeKafkaFailure),
 * or ioredis' bare "Connection is closed." when the first connection fails, whose cause the
 * service's listener of the connection's errors (logRedisErrors, or the segmenter's own) has
 * logged just before. Undefined for anything else (a bug deserves its stack).
 */
export function describeStartFailure(err: unknown): ConnectionFailure | undefined {
  const chain = errorChain(err);
  if (chain.length === 1 && chain[0]?.message === 'Connection is closed.')
    return { reason: 'the Redis connection closed before it was ready: the line logged before this one says why', config: false };
  return kafkaFailure(chain);
}

function kafkaFailure(chain: Array<{ name: string; message: string }>): ConnectionFailure | undefined {
  if (!chain.some((e) => e.name.startsWith('KafkaJS'))) return undefined;
  const sasl = chain.find((e) => e.name === 'KafkaJSSASLAuthenticationError');
  if (sasl !== undefined)
    return {
      reason: `Kafka refused the SASL credentials (${sasl.message}): check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_SASL_MECHANISM`,
      config: true,
    };
  const tls = chain.find((e) => TLS_UNTRUSTED.test(e.message));
  if (tls !== undefined)
    return {
      reason: `Kafka's TLS certificate is not trusted (${tls.message.replace(/; if the root CA .*$/, '')}): check KAFKA_SSL_CA_FILE (the CA that signed the brokers' certificates)`,
      config: true,
    };
  if (chain.some((e) => e.name === 'KafkaJSConnectionClosedError'))
    return {
      reason:
        'Kafka closed the connection before answering: check that KAFKA_SECURITY_PROTOCOL matches the listener at KAFKA_BROKERS (a TLS or SASL listener closes a plaintext client)',
      config: false,
    };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema registry

const REGISTRY_NAMES = ['SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD', 'SCHEMA_REGISTRY_PASSWORD_FILE', 'SCHEMA_REGISTRY_CA_FILE'];

export interface RegistryConnection {
  /** The registry's base URL without credentials (safe to show). */
  host: string;
  auth: { username: string; password: string } | undefined;
  /** An https agent trusting SCHEMA_REGISTRY_CA_FILE, when set. */
  agent: Agent | undefined;
}

/** The registry's settings: `url` (SCHEMA_REGISTRY_URL, http(s)) and the SCHEMA_REGISTRY_* family. */
export function registryConnection(env: Env, url: string): RegistryConnection {
  const raw = pick(env, REGISTRY_NAMES);
  const issues = new Issues();
  const parsed = parseUrl(url, 'SCHEMA_REGISTRY_URL', ['http:', 'https:']);
  const { username, password: pass } = credentials(raw, parsed, 'SCHEMA_REGISTRY', issues);
  const passwordSet = pass !== undefined || raw['SCHEMA_REGISTRY_PASSWORD_FILE'] !== undefined;
  if (username !== undefined && !passwordSet) issues.add('SCHEMA_REGISTRY_USERNAME', 'needs a password: set SCHEMA_REGISTRY_PASSWORD_FILE');
  if (username === undefined && passwordSet) issues.add('SCHEMA_REGISTRY_USERNAME', 'is required with a registry password (basic auth)');
  let agent: Agent | undefined;
  const caFile = raw['SCHEMA_REGISTRY_CA_FILE'];
  if (caFile !== undefined) {
    if (parsed.protocol !== 'https:') issues.add('SCHEMA_REGISTRY_CA_FILE', 'needs an https:// SCHEMA_REGISTRY_URL');
    else {
      const ca = readFile('SCHEMA_REGISTRY_CA_FILE', caFile, issues);
      if (ca !== undefined) agent = new Agent({ ca, keepAlive: true });
    }
  }
  issues.throwIfAny();
  const host = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  return { host, auth: username !== undefined && pass !== undefined ? { username, password: pass } : undefined, agent };
}

/** `new SchemaRegistry(registryOptions(conn))`: host, basic auth and the https agent. */
export function registryOptions(conn: RegistryConnection): { host: string; auth?: { username: string; password: string }; agent?: Agent } {
  return { host: conn.host, ...(conn.auth === undefined ? {} : { auth: conn.auth }), ...(conn.agent === undefined ? {} : { agent: conn.agent }) };
}

// ---------------------------------------------------------------------------------------------

export interface Connections {
  kafka: KafkaConnection;
  redis: RedisConnection;
  registry: RegistryConnection;
}

/** All three servers' settings at once, for tools that take the URLs from elsewhere (tests, the benchmark). */
export function connections(env: Env, urls: { kafkaBrokers: string; redisUrl: string; schemaRegistryUrl: string }): Connections {
  return {
    kafka: kafkaConnection(env, urls.kafkaBrokers.split(',')),
    redis: redisConnection(env, urls.redisUrl),
    registry: registryConnection(env, urls.schemaRegistryUrl),
  };
}

// ---------------------------------------------------------------------------------------------

/** `url` parsed; a ConfigError naming `variable` when it is no URL or has another scheme (never quoting it: it may hold a password). */
function parseUrl(url: string, variable: string, protocols: readonly string[]): URL {
  const expected = protocols.map((p) => `${p}//`).join(' or ');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidConfiguration([{ variable, message: `is not a valid URL (${expected})`, got: undefined }]);
  }
  if (!protocols.includes(parsed.protocol)) throw invalidConfiguration([{ variable, message: `must be a ${expected} URL`, got: undefined }]);
  if (parsed.password !== '') registerSecret(parsed.password);
  return parsed;
}

/**
 * The user and password of `<name>_URL`: `<name>_USERNAME` or the URL's user, `<name>_PASSWORD_FILE`
 * (or `<name>_PASSWORD`) or the URL's password; set both ways, an issue. Passwords are registered as secrets.
 */
function credentials(
  raw: Record<string, string>,
  parsed: URL,
  name: string,
  issues: Issues,
): { username: string | undefined; password: string | undefined; urlPassword: string | undefined } {
  const password = secret(raw, `${name}_PASSWORD`, issues);
  const fromUrl = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const fromVar = raw[`${name}_USERNAME`];
  if (fromUrl !== undefined && fromVar !== undefined) issues.add(`${name}_USERNAME`, `and a user inside ${name}_URL are both set: keep one`);
  const urlPassword = parsed.password === '' ? undefined : registerSecret(decodeURIComponent(parsed.password));
  const passwordVar = raw[`${name}_PASSWORD_FILE`] === undefined ? `${name}_PASSWORD` : `${name}_PASSWORD_FILE`;
  if (urlPassword !== undefined && password !== undefined)
    issues.add(passwordVar, `and a password inside ${name}_URL are both set: keep one (the file is preferred)`);
  return { username: fromVar ?? fromUrl, password: password ?? urlPassword, urlPassword };
}
