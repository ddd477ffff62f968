import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSSASLAuthenticationError } from 'kafkajs';
import {
  describeKafkaFailure,
  describeRedisError,
  describeStartFailure,
  kafkaConnection,
  kafkaOptions,
  redisConnection,
  redisOptions,
  registryConnection,
  registryOptions,
  secretFile,
} from './connections.ts';
import { redactSecrets } from './secrets.ts';
import { configError } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'crm-connections-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const CERT = file('cert.pem', 'cert');
const KEY = file('key.pem', 'key');

const variables = (fn: () => unknown) => configError(fn).issues.map((i) => i.variable);

describe('kafkaConnection', () => {
  const brokers = ['b1:9093', 'b2:9093'];

  it('is plaintext without credentials by default', () => {
    const conn = kafkaConnection({}, brokers);
    expect(conn).toEqual({ brokers, protocol: 'PLAINTEXT', ssl: undefined, sasl: undefined });
    expect(kafkaOptions(conn, { clientId: 'x' })).toEqual({ clientId: 'x', brokers });
  });

  it('builds SASL/SCRAM over TLS with a CA and a client certificate, the password from its file', () => {
    const conn = kafkaConnection(
      {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'segmenter',
        KAFKA_SASL_PASSWORD_FILE: file('kafka-pw', 'kafka-pass-1\n'),
        KAFKA_SSL_CA_FILE: CA,
        KAFKA_SSL_CERT_FILE: CERT,
        KAFKA_SSL_KEY_FILE: KEY,
      },
      brokers,
    );
    const options = kafkaOptions(conn, { clientId: 'crm' });
    expect(options.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'segmenter', password: 'kafka-pass-1' });
    expect(options.ssl).toEqual({
      ca: Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n'),
      cert: Buffer.from('cert'),
      key: Buffer.from('key'),
    });
    expect(redactSecrets('password=kafka-pass-1')).toBe('password=***');
  });

  it('takes PLAIN over plaintext with the password in a variable, and TLS alone without credentials', () => {
    const plain = kafkaConnection(
      { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'kafka-pass-2' },
      brokers,
    );
    expect(plain).toMatchObject({ ssl: undefined, sasl: { mechanism: 'plain', username: 'u', password: 'kafka-pass-2' } });
    expect(kafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL' }, brokers)).toMatchObject({ ssl: {}, sasl: undefined });
  });

  it('treats empty variables as unset', () => {
    expect(kafkaConnection({ KAFKA_SECURITY_PROTOCOL: '', KAFKA_SASL_USERNAME: '' }, brokers).protocol).toBe('PLAINTEXT');
  });

  it('refuses settings that cannot take effect, naming each variable', () => {
    expect(variables(() => kafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'TLS' }, brokers))).toEqual(['KAFKA_SECURITY_PROTOCOL']);
    expect(variables(() => kafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }, brokers))).toEqual([
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD_FILE',
    ]);
    expect(variables(() => kafkaConnection({ KAFKA_SASL_USERNAME: 'u', KAFKA_SSL_CA_FILE: CA }, brokers))).toEqual([
      'KAFKA_SSL_CA_FILE',
      'KAFKA_SASL_USERNAME',
    ]);
    expect(variables(() => kafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: CERT }, brokers))).toEqual(['KAFKA_SSL_KEY_FILE']);
    const both = configError(() =>
      kafkaConnection(
        {
          KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
          KAFKA_SASL_MECHANISM: 'PLAIN',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD: 'p',
          KAFKA_SASL_PASSWORD_FILE: file('p2', 'p'),
        },
        brokers,
      ),
    );
    expect(both.message).toContain('KAFKA_SASL_PASSWORD_FILE: KAFKA_SASL_PASSWORD_FILE and KAFKA_SASL_PASSWORD are both set');
  });

  it('names a missing or empty secret file and its path, never its content', () => {
    const missing = configError(() =>
      kafkaConnection(
        { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope') },
        brokers,
      ),
    );
    expect(missing.message).toBe(`invalid configuration:\n  KAFKA_SASL_PASSWORD_FILE: cannot read ${join(dir, 'nope')} (ENOENT)`);
    expect(() => secretFile('CRM_METRICS_TOKEN_FILE', file('empty', '\n'))).toThrow(/CRM_METRICS_TOKEN_FILE: the secret file .*empty is empty/);
    expect(() => kafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: dir }, brokers)).toThrow(/KAFKA_SSL_CA_FILE: cannot read .* \(EISDIR\)/);
  });
});

describe('redisConnection', () => {
  it('takes host, port and database from the URL', () => {
    const conn = redisConnection({}, 'redis://10.0.0.5:6380/2');
    expect(conn).toEqual({ display: 'redis://10.0.0.5:6380/2', options: { host: '10.0.0.5', port: 6380, db: 2 } });
    expect(redisOptions(conn, { maxRetriesPerRequest: 1 })).toEqual({ maxRetriesPerRequest: 1, host: '10.0.0.5', port: 6380, db: 2 });
    expect(redisConnection({}, 'redis://[::1]').options).toEqual({ host: '::1', port: 6379 });
  });

  it('authenticates an ACL user with the password from its file, over TLS with a CA and a client certificate', () => {
    const conn = redisConnection(
      {
        REDIS_USERNAME: 'segmenter',
        REDIS_PASSWORD_FILE: file('redis-pw', 'redis-pass-1\n'),
        REDIS_TLS_CA_FILE: CA,
        REDIS_TLS_CERT_FILE: CERT,
        REDIS_TLS_KEY_FILE: KEY,
      },
      'rediss://cache.internal:6380',
    );
    expect(conn.options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'segmenter',
      password: 'redis-pass-1',
      tls: { cert: Buffer.from('cert') },
    });
    expect(conn.display).toBe('rediss://cache.internal:6380');
  });

  it('still takes a password inside the URL (decoded), registered as a secret and masked in the display', () => {
    const conn = redisConnection({}, 'redis://app:p%40ss-in-url@127.0.0.1:6379');
    expect(conn.options).toMatchObject({ username: 'app', password: 'p@ss-in-url' });
    expect(conn.display).toBe('redis://app:***@127.0.0.1:6379');
    expect(redactSecrets('AUTH app p@ss-in-url / p%40ss-in-url')).toBe('AUTH app *** / ***');
  });

  it('refuses settings that cannot take effect, naming each variable', () => {
    expect(variables(() => redisConnection({ REDIS_TLS_CA_FILE: CA, REDIS_TLS_KEY_FILE: KEY }, 'redis://h:1'))).toEqual([
      'REDIS_TLS_CA_FILE',
      'REDIS_TLS_KEY_FILE',
    ]);
    expect(variables(() => redisConnection({ REDIS_TLS_KEY_FILE: KEY }, 'rediss://h:1'))).toEqual(['REDIS_TLS_CERT_FILE']);
    expect(variables(() => redisConnection({ REDIS_USERNAME: 'u' }, 'redis://h:1'))).toEqual(['REDIS_USERNAME']);
    expect(variables(() => redisConnection({ REDIS_PASSWORD: 'x' }, 'redis://:y@h:1'))).toEqual(['REDIS_PASSWORD']);
    expect(variables(() => redisConnection({ REDIS_USERNAME: 'u', REDIS_PASSWORD: 'x' }, 'redis://v@h:1'))).toEqual(['REDIS_USERNAME']);
    expect(variables(() => redisConnection({}, 'redis://h:1/zero'))).toEqual(['REDIS_URL']);
    expect(variables(() => redisConnection({}, 'redis://u:pw@h:99999'))).toEqual(['REDIS_URL']);
  });
});

describe('registryConnection', () => {
  it('passes basic auth and an https agent trusting the CA', () => {
    const conn = registryConnection(
      { SCHEMA_REGISTRY_USERNAME: 'reg', SCHEMA_REGISTRY_PASSWORD_FILE: file('reg-pw', 'reg-pass-1'), SCHEMA_REGISTRY_CA_FILE: CA },
      'https://registry.internal:8081/apis/ccompat/v7/',
    );
    const options = registryOptions(conn);
    expect(options).toMatchObject({ host: 'https://registry.internal:8081/apis/ccompat/v7', auth: { username: 'reg', password: 'reg-pass-1' } });
    expect(options.agent?.options.ca).toEqual(Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n'));
  });

  it('moves credentials out of the URL into basic auth', () => {
    expect(registryOptions(registryConnection({}, 'http://reg:reg-pass-2@127.0.0.1:8081'))).toEqual({
      host: 'http://127.0.0.1:8081',
      auth: { username: 'reg', password: 'reg-pass-2' },
    });
    expect(registryOptions(registryConnection({}, 'http://127.0.0.1:8081'))).toEqual({ host: 'http://127.0.0.1:8081' });
  });

  it('refuses settings that cannot take effect, naming each variable', () => {
    expect(variables(() => registryConnection({ SCHEMA_REGISTRY_CA_FILE: CA }, 'http://h:1'))).toEqual(['SCHEMA_REGISTRY_CA_FILE']);
    expect(variables(() => registryConnection({ SCHEMA_REGISTRY_PASSWORD: 'x' }, 'http://h:1'))).toEqual(['SCHEMA_REGISTRY_USERNAME']);
    expect(variables(() => registryConnection({ SCHEMA_REGISTRY_USERNAME: 'u' }, 'http://h:1'))).toEqual(['SCHEMA_REGISTRY_USERNAME']);
    expect(variables(() => registryConnection({}, 'ftp://h:1'))).toEqual(['SCHEMA_REGISTRY_URL']);
  });
});

describe('connection failures, in one line naming the variables', () => {
  /** What kafkajs throws once its retries are spent: the last error inside. */
  const spent = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 5, retryTime: 100 });

  it('Kafka refusing the SASL credentials: KAFKA_SASL_* (a configuration error)', () => {
    // kafkajs' types omit the constructor's message.
    const err = new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('SASL SCRAM SHA512 authentication failed: invalid credentials');
    expect(describeKafkaFailure(err)).toEqual({
      reason:
        'Kafka refused the SASL credentials (SASL SCRAM SHA512 authentication failed: invalid credentials): check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_SASL_MECHANISM',
      config: true,
    });
  });

  it("a broker certificate the CA does not vouch for, after kafkajs' retries: KAFKA_SSL_CA_FILE", () => {
    const err = spent(new KafkaJSConnectionError('Connection error: unable to verify the first certificate; if the root CA is installed locally, try X'));
    expect(describeKafkaFailure(err)).toEqual({
      reason:
        "Kafka's TLS certificate is not trusted (Connection error: unable to verify the first certificate): check KAFKA_SSL_CA_FILE (the CA that signed the brokers' certificates)",
      config: true,
    });
  });

  it('a closed connection: KAFKA_SECURITY_PROTOCOL, but not a configuration error for sure', () => {
    const closed = Object.assign(new KafkaJSConnectionError('Closed connection'), { name: 'KafkaJSConnectionClosedError' });
    expect(describeKafkaFailure(spent(closed))).toMatchObject({ reason: expect.stringContaining('KAFKA_SECURITY_PROTOCOL'), config: false });
  });

  it('anything else (a broker that is down, a non-Kafka error) is left to the caller', () => {
    expect(describeKafkaFailure(spent(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1')))).toBeUndefined();
    expect(describeKafkaFailure(new Error('self-signed certificate'))).toBeUndefined();
  });

  it("a service's start: ioredis' bare closed connection points at the line before; Kafka's as above; a bug is left alone", () => {
    expect(describeStartFailure(new Error('Connection is closed.'))).toEqual({
      reason: 'the Redis connection closed before it was ready: the line logged before this one says why',
      config: false,
    });
    expect(describeStartFailure(spent(new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain')))).toMatchObject({
      config: true,
    });
    expect(describeStartFailure(new TypeError('x is undefined'))).toBeUndefined();
  });

  it('Redis: an untrusted certificate names REDIS_TLS_CA_FILE; a reset plaintext client suggests rediss://', () => {
    const tls = redisConnection({}, 'rediss://127.0.0.1:1');
    expect(describeRedisError(new Error('self-signed certificate in certificate chain'), tls)).toBe(
      "Redis at rediss://127.0.0.1:1: its TLS certificate is not trusted (self-signed certificate in certificate chain): check REDIS_TLS_CA_FILE (the CA that signed the server's certificate)",
    );
    const plain = redisConnection({}, 'redis://127.0.0.1:1');
    expect(describeRedisError(new Error('write ECONNRESET'), plain)).toBe(
      'Redis at redis://127.0.0.1:1: write ECONNRESET: if the server listens with TLS, use rediss:// in REDIS_URL',
    );
    expect(describeRedisError(new Error('write ECONNRESET'), tls)).toBe('Redis at rediss://127.0.0.1:1: write ECONNRESET');
  });
});
