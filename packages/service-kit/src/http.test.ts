import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, startHttp } from './http.ts';

describe('startHttp', () => {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'test' });
  let ready = false;
  let last: { rows: number } | undefined;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = await startHttp(
      { port: 0, host: '127.0.0.1', metricsToken: undefined },
      registry,
      { ready: () => ({ ready, detail: { partitions: ready ? 3 : 0 } }) },
      { '/last': () => (last === undefined ? { status: 503, body: { error: 'nothing yet' } } : { status: 200, body: last }) },
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('serves the registry as Prometheus text on /metrics', async () => {
    const m = await get('/metrics?x=1');
    expect(m.status).toBe(200);
    expect(m.type).toBe(registry.contentType);
  });

  it('is healthy as long as it answers', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, type: 'application/json', body: '{"status":"ok"}' });
  });

  it('reports readiness with its detail: 503 until ready, then 200', async () => {
    expect(await get('/readyz')).toEqual({ status: 503, type: 'application/json', body: '{"status":"not_ready","partitions":0}' });
    ready = true;
    expect(await get('/readyz')).toEqual({ status: 200, type: 'application/json', body: '{"status":"ready","partitions":3}' });
  });

  it("serves the service's own JSON routes", async () => {
    expect(await get('/last')).toEqual({ status: 503, type: 'application/json', body: '{"error":"nothing yet"}' });
    last = { rows: 2 };
    expect(await get('/last')).toEqual({ status: 200, type: 'application/json', body: '{"rows":2}' });
  });

  it('answers anything else with a JSON 404', async () => {
    expect(await get('/nope')).toEqual({ status: 404, type: 'application/json', body: '{"error":"not found"}' });
    expect(await get('/constructor')).toMatchObject({ status: 404 });
  });

  it('rejects when the port is taken', async () => {
    await expect(
      startHttp({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', metricsToken: undefined }, registry, {
        ready: () => ({ ready, detail: {} }),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('startHttp with a metrics token', () => {
  const registry = new Registry();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = await startHttp(
      { port: 0, host: '127.0.0.1', metricsToken: 's3cret-token' },
      registry,
      { ready: () => ({ ready: true, detail: {} }) },
      {
        '/lag': () => ({ status: 200, body: { lag: 0 } }),
      },
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const status = async (path: string, authorization?: string) =>
    (await fetch(base + path, authorization === undefined ? {} : { headers: { authorization } })).status;

  it('answers /metrics and the service routes only with the bearer token', async () => {
    for (const path of ['/metrics', '/lag']) {
      expect(await status(path)).toBe(401);
      expect(await status(path, 'Bearer wrong')).toBe(401);
      expect(await status(path, 'Bearer s3cret-token-and-more')).toBe(401);
      expect(await status(path, 'Basic s3cret-token')).toBe(401);
      expect(await status(path, 'Bearer s3cret-token')).toBe(200);
    }
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('keeps the probes open', async () => {
    expect(await status('/healthz')).toBe(200);
    expect(await status('/readyz')).toBe(200);
  });

  it('binds where it is told: loopback only', async () => {
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
  });
});

describe('bearerToken', () => {
  const A = 'tok_aaaaaaaaaaaaaaaaaaaaaaaa';
  it('takes the token of a Bearer header only, the scheme in any case', () => {
    expect(bearerToken(`Bearer ${A}`)).toBe(A);
    expect(bearerToken(`bearer ${A}`)).toBe(A);
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(`Basic ${A}`)).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(`Bearer ${A} extra`)).toBeNull();
  });
});
