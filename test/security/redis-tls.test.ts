/**
 * Redis over TLS with mutual authentication, as the shared settings build it: a Redis of the
 * test's own that listens only on TLS and demands a client certificate, a throwaway CA made
 * with openssl (testkit's makeCa). The settings that should get in do; a missing client certificate or a CA that
 * did not sign the server's certificate do not.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisConnection, redisOptions } from '@crm/service-kit';
import { type OwnRedis, makeCa, makeSignedCert, startOwnRedis } from '@crm/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
describe('Redis over mutual TLS', () => {
  let redis: OwnRedis;
  let url: string;
  const file = (name: string) => join(redis.dir, name);

  beforeAll(async () => {
    redis = await startOwnRedis((dir, port) => {
      makeCa(dir, 'ca');
      makeCa(dir, 'other-ca');
      makeSignedCert(dir, 'ca', 'server');
      makeSignedCert(dir, 'ca', 'client');
      // TLS only (the plain port off), client certificates required.
      return [
        ...['--port', '0', '--tls-port', String(port)],
        ...['--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem')],
        ...['--tls-auth-clients', 'yes', '--requirepass', 'tls-test-password'],
      ];
    });
    url = `rediss://127.0.0.1:${redis.port}`;
    writeFileSync(file('password'), 'tls-test-password\n');
  });
  afterAll(() => redis?.stop());

  /** PINGs with the settings `env` gives; resolves with the reply or the connection error's message. */
  async function ping(env: Record<string, string>): Promise<string> {
    const client = new Redis(redisOptions(redisConnection(env, url), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }));
    let last: Error | undefined;
    client.on('error', (err: Error) => {
      last = err;
    });
    try {
      await client.connect();
      return await client.ping();
    } catch (err) {
      return (last ?? (err as Error)).message;
    } finally {
      client.disconnect();
    }
  }

  const client = () => ({ REDIS_TLS_CERT_FILE: file('client.pem'), REDIS_TLS_KEY_FILE: file('client.key'), REDIS_PASSWORD_FILE: file('password') });

  it('gets in with the CA that signed the server and a client certificate', async () => {
    expect(await ping({ REDIS_TLS_CA_FILE: file('ca.pem'), ...client() })).toBe('PONG');
  });

  it('is refused without a client certificate', async () => {
    expect(await ping({ REDIS_TLS_CA_FILE: file('ca.pem'), REDIS_PASSWORD_FILE: file('password') })).not.toBe('PONG');
  });

  it("refuses a server whose certificate the configured CA did not sign (nor the system's)", async () => {
    expect(await ping({ REDIS_TLS_CA_FILE: file('other-ca.pem'), ...client() })).toMatch(/self[- ]signed|unable to verify|certificate/i);
    expect(await ping(client())).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });

  it('serves the CLI through the same variables', () => {
    const out = execFileSync(process.execPath, [CLI, 'segments', '--json'], {
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: url, REDIS_TLS_CA_FILE: file('ca.pem'), ...client() },
      encoding: 'utf8',
    });
    expect(() => JSON.parse(out)).not.toThrow();
  });
});
