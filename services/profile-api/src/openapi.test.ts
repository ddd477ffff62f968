/**
 * The OpenAPI document: the served one equals the checked-in file (regenerate with
 * `pnpm --filter @crm/profile-api openapi`), and it describes every route the app serves.
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from '@crm/testkit';
import { defaultDomainConfig } from '@crm/domain';
import { redisConnection } from '@crm/service-kit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { createMetrics } from './metrics.ts';
import { OPENAPI_FILE } from './openapi.ts';
import { ROUTES } from './routes.ts';

describe('OpenAPI document', () => {
  // Never connected: /openapi.json touches no server.
  const redis = new Redis({ lazyConnect: true });
  const app = buildApp({
    config: {
      redis: redisConnection({}, 'redis://127.0.0.1:1'),
      keyPrefix: 'crm',
      topicSuffix: '',
      partitions: 3,
      port: 0,
      host: '127.0.0.1',
      tokens: [],
      logLevel: 'silent',
      domain: defaultDomainConfig,
      clock: 'wall',
      tls: null,
      rateLimit: { perSecond: 1, burst: 1 },
    },
    redis,
    log: silentLogger,
    metrics: createMetrics(),
  });
  afterAll(() => app.close());

  it('is served at /openapi.json without a token and equals the checked-in file', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
  });

  it('describes every route the app serves, and only those', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const served = ROUTES.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(documented.sort()).toEqual(served.sort());
    for (const r of ROUTES) expect(app.hasRoute({ method: r.method, url: r.url }), `${r.method} ${r.url} registered`).toBe(true);
  });

  it("states each route's scope as its security requirement, and the refusals of routes that need a token", async () => {
    type Operation = { security: Array<Record<string, string[]>>; responses: Record<string, unknown> };
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
      components: { responses: Record<string, { headers?: Record<string, unknown> }> };
    };
    for (const r of ROUTES) {
      const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()] as Operation;
      if (r.scope === null) {
        expect(op.security, r.url).toEqual([]);
        continue;
      }
      expect(op.security, r.url).toEqual([{ bearer: [r.scope] }]);
      for (const status of ['401', '403', '429']) expect(op.responses[status], `${r.url} ${status}`).toEqual({ $ref: `#/components/responses/E${status}` });
    }
    expect(Object.keys(doc.components.responses['E429']?.headers ?? {})).toEqual(['Retry-After']);
    expect(Object.keys(doc.components.responses['E401']?.headers ?? {})).toEqual(['WWW-Authenticate']);
  });
});
