/**
 * HTTPS: with PROFILE_API_TLS_CERT_FILE and _KEY_FILE set (a throwaway certificate made with
 * the openssl CLI), the API serves HTTPS on its port and nothing over plain HTTP.
 */
import { request } from 'node:https';
import { logSink, testRedis } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredState, testApi, writeRecord } from './testing/api.ts';
import { selfSignedCert } from './testing/tls.ts';

const TOKEN = 'tok_tls_integration_test_000000001';
const CUSTOMER = 'cust-tls-01';

/** GET over HTTPS trusting only `ca`: status and body. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('profile API over HTTPS', () => {
  const cert = selfSignedCert();
  const sink = logSink('info');
  const redis = testRedis();
  const { api, prefix } = testApi([TOKEN], {
    env: { PROFILE_API_PORT: '0', PROFILE_API_TLS_CERT_FILE: cert.certFile, PROFILE_API_TLS_KEY_FILE: cert.keyFile },
    log: sink.logger,
  });
  let port = 0;

  beforeAll(async () => {
    await writeRecord(redis, prefix, CUSTOMER, `1||${registeredState(CUSTOMER)}`);
    await api.start();
    port = api.port();
  });
  afterAll(async () => {
    await api.stop();
    await redis.quit();
  });

  it('listens on loopback, saying it serves HTTPS', () => {
    expect(sink.lines.find((l) => l['msg'] === 'profile API listening')).toMatchObject({ address: `https://127.0.0.1:${port}`, tls: true });
  });

  it('serves the routes over TLS with the configured certificate', async () => {
    expect(await httpsGet(`https://127.0.0.1:${port}/healthz`, cert.cert)).toEqual({ status: 200, body: '{"status":"ok"}' });
    const res = await httpsGet(`https://localhost:${port}/customers/${CUSTOMER}`, cert.cert, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ customerId: CUSTOMER });
  });

  it('refuses a client that does not trust the certificate', async () => {
    await expect(fetch(`https://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('answers nothing over plain HTTP on the TLS port', async () => {
    const attempt = fetch(`http://127.0.0.1:${port}/healthz`);
    await expect(attempt).rejects.toThrow(/fetch failed/);
  });
});
