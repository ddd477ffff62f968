/**
 * The secured local servers hold what they promise, tested with raw clients: Kafka accepts
 * SCRAM-SHA-512, SCRAM-SHA-256, PLAIN and client certificates over TLS and refuses a wrong
 * password, an untrusting client and plaintext; Redis' ACL users can do what
 * infra/redis/users.acl grants (docs/redis-acl.conf's command lists) and nothing else; the registry answers HTTPS with basic auth only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { callHttp, type HttpOptions, type SecureUpResult, secureConfig } from '@crm/infra';
import { collectMessages, createTopic, uniqueName } from './helpers.ts';
import { readSecret, secureKafkaConfig, secureKeyPrefix, secureRedisOptions, secureServers } from './secure.ts';

let s: SecureUpResult;
let ca: string;

beforeAll(async () => {
  s = await secureServers();
  ca = readFileSync(s.certs.ca, 'utf8');
});

/** Quick failure instead of kafkajs' retries: these tests expect refusals. */
const kafka = (config: KafkaConfig) =>
  new Kafka({ clientId: uniqueName('secure-test'), logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 }, ...config });

/** Produces one message to a new topic and reads it back with a consumer group, all as `config`. */
async function roundTrip(config: KafkaConfig): Promise<string[]> {
  const k = kafka({ ...config, retry: { retries: 5 } });
  const topic = uniqueName('secure');
  const admin = k.admin();
  await admin.connect();
  try {
    await createTopic(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const producer = k.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'c1', value: 'hello over TLS' }] });
  await producer.disconnect();
  const got = await collectMessages(k, topic, (m) => m.length >= 1);
  return got.map((c) => c.message.value?.toString() ?? '');
}

async function describeCluster(config: KafkaConfig): Promise<number> {
  const admin = kafka(config).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect();
  }
}

describe('secured Kafka', () => {
  it('produces and consumes over SASL_SSL with SCRAM-SHA-512', async () => {
    expect(await roundTrip(secureKafkaConfig(s, { mechanism: 'scram-sha-512' }))).toEqual(['hello over TLS']);
  });

  it('produces and consumes over SASL_SSL with SCRAM-SHA-256', async () => {
    expect(await roundTrip(secureKafkaConfig(s, { mechanism: 'scram-sha-256' }))).toEqual(['hello over TLS']);
  });

  it('accepts PLAIN over SASL_SSL too', async () => {
    expect(await describeCluster(secureKafkaConfig(s, { mechanism: 'plain' }))).toBe(1);
  });

  it('produces and consumes over mutual TLS with the client certificate', async () => {
    const config = {
      brokers: [s.kafkaMtlsBrokers],
      ssl: { ca: [ca], cert: readFileSync(s.certs.clientCert, 'utf8'), key: readFileSync(s.certs.clientKey, 'utf8') },
    };
    expect(await roundTrip(config)).toEqual(['hello over TLS']);
  });

  it('refuses a wrong password for either SCRAM mechanism', async () => {
    for (const mechanism of ['scram-sha-512', 'scram-sha-256'] as const) {
      await expect(describeCluster(secureKafkaConfig(s, { mechanism, password: 'not-the-password' }))).rejects.toThrow(
        /SASL .*authentication failed|Authentication failed/i,
      );
    }
  });

  it('refuses an unknown user', async () => {
    await expect(describeCluster(secureKafkaConfig(s, { username: 'mallory' }))).rejects.toThrow(/authentication failed/i);
  });

  it('is refused by a client that does not trust the CA', async () => {
    const config = { ...secureKafkaConfig(s), ssl: true };
    await expect(describeCluster(config)).rejects.toThrow(/self-signed certificate|unable to (get|verify)/i);
  });

  it('refuses a client without a certificate on the mutual-TLS listener', async () => {
    await expect(describeCluster({ brokers: [s.kafkaMtlsBrokers], ssl: { ca: [ca] } })).rejects.toThrow(/bad certificate|certificate required/);
    // With the certificate, the same listener answers: the refusal was about the certificate.
    const withCert = {
      brokers: [s.kafkaMtlsBrokers],
      ssl: { ca: [ca], cert: readFileSync(s.certs.clientCert, 'utf8'), key: readFileSync(s.certs.clientKey, 'utf8') },
    };
    expect(await describeCluster(withCert)).toBe(1);
  });

  it('refuses plaintext on the SASL_SSL listener', async () => {
    await expect(describeCluster({ brokers: [s.kafkaBrokers] })).rejects.toThrow(/Closed connection|Connection error/);
  });
});

/**
 * Runs `fn` with a client that gives up at once (no reconnect loop), then disconnects it. A
 * failure is the connection's first error when it had one (a refused AUTH only surfaces there).
 */
async function withRedis<T>(options: RedisOptions, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  const errors: Error[] = [];
  r.on('error', (err: Error) => errors.push(err));
  try {
    await r.connect();
    return await fn(r);
  } catch (err) {
    throw errors[0] ?? err;
  } finally {
    r.disconnect();
  }
}

describe('secured Redis', () => {
  it('lets the segmenter write its prefix and the reader read it, and refuses the reader a SET with NOPERM', async () => {
    const key = `${secureKeyPrefix()}:{0}:state`;
    await withRedis(secureRedisOptions(s, 'segmenter'), async (r) => {
      await r.hset(key, 'c1', 'v1');
    });
    await withRedis(secureRedisOptions(s, 'reader'), async (r) => {
      expect(await r.hget(key, 'c1')).toBe('v1');
      await expect(r.set(`${key}:x`, '1')).rejects.toThrow(/NOPERM/);
      await expect(r.hset(key, 'c1', 'changed')).rejects.toThrow(/NOPERM/);
      await expect(r.del(key)).rejects.toThrow(/NOPERM/);
    });
    await withRedis(secureRedisOptions(s, 'segmenter'), async (r) => {
      expect(await r.hget(key, 'c1')).toBe('v1');
      // The documented segmenter deletes nothing: no DEL (docs/redis-acl.conf).
      await expect(r.del(key)).rejects.toThrow(/NOPERM/);
    });
    await withRedis(secureRedisOptions(s, 'admin'), (r) => r.del(key));
  });

  it('lets the reader GET a string', async () => {
    const key = `${secureKeyPrefix()}:rfm-cuts`;
    await withRedis(secureRedisOptions(s, 'segmenter'), (r) => r.set(key, '{"cuts":[]}', 'EX', 60));
    await withRedis(secureRedisOptions(s, 'reader'), async (r) => {
      expect(await r.get(key)).toBe('{"cuts":[]}');
      await expect(r.set(key, 'x')).rejects.toThrow(/NOPERM/);
    });
  });

  it('runs the segmenter’s Lua on its own keys and refuses keys outside its prefix and dangerous commands', async () => {
    await withRedis(secureRedisOptions(s, 'segmenter'), async (r) => {
      const key = `${secureKeyPrefix()}:{1}:counts`;
      expect(await r.eval("return redis.call('HINCRBY', KEYS[1], 'rfm:champions', 1)", 1, key)).toBe(1);
      expect(await r.hincrby(key, 'rfm:champions', -1)).toBe(0);
      await expect(r.set('other:key', '1')).rejects.toThrow(/NOPERM/);
      await expect(r.get('session:1')).rejects.toThrow(/NOPERM/);
      await expect(r.eval("return redis.call('SET', KEYS[1], '1')", 1, 'other:key')).rejects.toThrow(/NOPERM|No permissions/);
      await expect(r.flushall()).rejects.toThrow(/NOPERM/);
      await expect(r.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    });
  });

  it('refuses the default user, a wrong password, an untrusting client and plaintext', async () => {
    const opts = secureRedisOptions(s, 'reader');
    await expect(withRedis({ ...opts, username: undefined, password: undefined, enableReadyCheck: false }, (r) => r.get('crm:x'))).rejects.toThrow(
      /NOAUTH|NOPERM|Authentication required/i,
    );
    await expect(withRedis({ ...opts, password: 'not-the-password' }, (r) => r.ping())).rejects.toThrow(/WRONGPASS/);
    await expect(withRedis({ ...opts, tls: {} }, (r) => r.ping())).rejects.toThrow(/self-signed certificate|unable to (get|verify)/i);
    const { tls: _tls, ...plaintext } = opts;
    await expect(withRedis(plaintext, (r) => r.ping())).rejects.toThrow(/Connection is closed|ECONNRESET/);
  });

  it('accepts a client certificate signed by the CA', async () => {
    const opts = secureRedisOptions(s, 'reader');
    const tls = { ca, cert: readFileSync(s.certs.clientCert, 'utf8'), key: readFileSync(s.certs.clientKey, 'utf8') };
    expect(await withRedis({ ...opts, tls }, (r) => r.ping())).toBe('PONG');
  });
});

/** A call to the registry's Confluent API trusting `caPem` (the system's CAs when undefined). */
function registry(path: string, options: HttpOptions & { url?: string } = {}): Promise<{ status: number; body: string }> {
  return callHttp(`${options.url ?? s.schemaRegistryUrl}${path}`, options);
}

describe('secured schema registry', () => {
  const auth = () => ({ username: s.users.registry.username, password: readSecret(s.users.registry.passwordFile) });

  it('answers over HTTPS with the CA and basic auth, and registers a schema', async () => {
    const subjects = await registry('/subjects', { ca, auth: auth() });
    expect(subjects.status).toBe(200);
    expect(Array.isArray(JSON.parse(subjects.body))).toBe(true);
    const subject = `${uniqueName('secure')}-value`;
    const created = await registry(`/subjects/${subject}/versions`, { method: 'POST', json: { schema: '{"type":"string"}' }, ca, auth: auth() });
    expect(created.status).toBe(200);
    const { id } = JSON.parse(created.body) as { id: number };
    const read = await registry(`/schemas/ids/${id}`, { ca, auth: auth() });
    expect(JSON.parse(read.body)).toMatchObject({ schema: '"string"' });
  });

  it('refuses requests without credentials or with a wrong password (401)', async () => {
    expect((await registry('/subjects', { ca })).status).toBe(401);
    expect((await registry('/subjects', { ca, auth: { ...auth(), password: 'not-the-password' } })).status).toBe(401);
    expect((await registry('/subjects', { method: 'POST', json: { schema: '"string"' }, ca })).status).toBe(401);
  });

  it('is refused by a client that does not trust the CA', async () => {
    await expect(registry('/subjects', { auth: auth() })).rejects.toThrow(/self-signed certificate|unable to (get|verify)/i);
  });

  it('refuses plain HTTP on its port', async () => {
    const plainUrl = s.schemaRegistryUrl.replace(/^https:/, 'http:');
    // The TLS listener drops the connection (or answers 400); it never lists the subjects.
    const outcome = await registry('/subjects', { url: plainUrl, auth: auth(), timeoutMs: 5000 }).then(
      (res) => (res.status === 200 ? 'answered' : 'refused'),
      () => 'refused',
    );
    expect(outcome).toBe('refused');
  });
});

describe('secured servers’ logs', () => {
  it('hold no password and no private key, after all the refusals above', () => {
    const { dir } = secureConfig();
    const logs = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(logs).toHaveLength(3);
    const secrets = Object.values(s.users).map((u) => readSecret(u.passwordFile));
    const keyBody = readFileSync(s.certs.serverKey, 'utf8').split('\n')[1] ?? 'missing';
    for (const log of logs) {
      for (const secret of [...secrets, keyBody]) expect(log.includes(secret)).toBe(false);
    }
  });
});
