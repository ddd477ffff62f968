/**
 * The profile API's secrets beyond Redis' password: its client tokens are masked in every log
 * line like a password, and CRM_METRICS_TOKEN_FILE guards /metrics as it does in the other
 * services. The app is driven with inject; Redis is never reached (the client connects lazily).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactSecrets } from '@crm/service-kit';
import { silentLogger } from '@crm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { ProfileApi } from './service.ts';

const CLIENT = 'tok_client_of_the_api_000000000001';
const SCRAPER = 'tok_metrics_scraper_00000000000001';

const apis: ProfileApi[] = [];
afterEach(async () => {
  for (const a of apis.splice(0)) await a.app.close();
});

function api(env: Record<string, string> = {}): ProfileApi {
  const dir = mkdtempSync(join(tmpdir(), 'profile-api-secrets-'));
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify([{ token: CLIENT, name: 'client', scopes: ['customers:read', 'segments:read'] }]));
  writeFileSync(join(dir, 'metrics-token'), `${SCRAPER}\n`);
  const withFiles = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('<dir>', dir)]));
  const a = new ProfileApi(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', PROFILE_API_TOKENS_FILE: join(dir, 'tokens.json'), ...withFiles }), silentLogger);
  apis.push(a);
  return a;
}

const metrics = (a: ProfileApi, token?: string) =>
  a.app.inject({ method: 'GET', url: '/metrics', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('profile API secrets', () => {
  it('registers every client token as a secret: masked in any text that leaves the process', () => {
    api();
    expect(redactSecrets(`Authorization: Bearer ${CLIENT}`)).toBe('Authorization: Bearer ***');
  });

  it('guards /metrics with CRM_METRICS_TOKEN_FILE: 401 without it or with a client token, 200 with it', async () => {
    const a = api({ CRM_METRICS_TOKEN_FILE: '<dir>/metrics-token' });
    const none = await metrics(a);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('CRM_METRICS_TOKEN_FILE') });
    expect((await metrics(a, CLIENT)).statusCode).toBe(401);
    const ok = await metrics(a, SCRAPER);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('crm_api_requests_total');
    // The metrics token is a secret too; it opens nothing but /metrics.
    expect(redactSecrets(SCRAPER)).toBe('***');
    expect((await a.app.inject({ method: 'GET', url: '/segments', headers: { authorization: `Bearer ${SCRAPER}` } })).statusCode).toBe(401);
  });

  it('leaves /metrics open without CRM_METRICS_TOKEN_FILE, and the probes open with it', async () => {
    expect((await metrics(api())).statusCode).toBe(200);
    const guarded = api({ CRM_METRICS_TOKEN_FILE: '<dir>/metrics-token' });
    expect((await guarded.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('stops at start naming CRM_METRICS_TOKEN_FILE when the file cannot be read', () => {
    expect(() => api({ CRM_METRICS_TOKEN_FILE: '<dir>/missing' })).toThrow(/CRM_METRICS_TOKEN_FILE/);
  });
});
