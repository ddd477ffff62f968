/**
 * Who may read what, against real Redis: tokens with scopes (403 outside them), missing and
 * unknown tokens (401), per-token rate limits (429 with Retry-After), every refusal counted in
 * crm_api_requests_denied_total by reason and token name, never by secret.
 */
import { testRedis } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from './schemas.ts';
import { registeredState, testApi, writeRecord } from './testing/api.ts';

const ALL = 'tok_access_all_scopes_00000000001';
const CUSTOMERS = 'tok_access_customers_0000000000001';
const SEGMENTS = 'tok_access_segments_00000000000001';
const SLOW = 'tok_access_slow_000000000000000001';

const CUSTOMER = 'cust-access-01';
const ROUTES = { customer: `/customers/${CUSTOMER}`, list: '/customers', counts: '/segments', members: '/segments/stage/new/members' };

describe('profile API access', () => {
  const redis = testRedis();
  const { api, prefix } = testApi([
    ALL,
    { token: CUSTOMERS, scopes: ['customers:read'], name: 'campaign-engine' },
    { token: SEGMENTS, scopes: ['segments:read'], name: 'dashboard' },
    // Two requests at once, then one every 100 s: the third is refused in any test run.
    { token: SLOW, scopes: ['customers:read'], name: 'slow', rateLimit: { perSecond: 0.01, burst: 2 } },
  ]);
  const get = (url: string, token?: string) => api.app.inject({ method: 'GET', url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const metrics = async () => (await get('/metrics')).body;
  const denied = (text: string, reason: string, token: string): number => {
    const m = new RegExp(`^crm_api_requests_denied_total\\{reason="${reason}",token="${token}"\\} (\\d+)$`, 'm').exec(text);
    return m === null ? Number.NaN : Number(m[1]);
  };

  beforeAll(async () => {
    await writeRecord(redis, prefix, CUSTOMER, `1||${registeredState(CUSTOMER)}`);
    await api.start({ listen: false });
  });
  afterAll(async () => {
    await api.stop();
    await redis.quit();
  });

  it('starts every series of refusals at zero, by token name', async () => {
    const text = await metrics();
    expect(denied(text, 'unauthenticated', '')).toBe(0);
    for (const name of ['token-1', 'campaign-engine', 'dashboard', 'slow']) {
      expect(denied(text, 'forbidden', name), name).toBe(0);
      expect(denied(text, 'rate_limited', name), name).toBe(0);
    }
  });

  it('serves each route to the tokens of its scope, and 403 to the others', async () => {
    const before = await metrics();
    const cases: Array<[token: string, route: keyof typeof ROUTES, status: number]> = [
      [ALL, 'customer', 200],
      [ALL, 'counts', 200],
      [ALL, 'members', 200],
      [CUSTOMERS, 'customer', 200],
      [CUSTOMERS, 'members', 200],
      [CUSTOMERS, 'list', 200],
      [CUSTOMERS, 'counts', 403],
      [SEGMENTS, 'counts', 200],
      [SEGMENTS, 'customer', 403],
      [SEGMENTS, 'members', 403],
      [SEGMENTS, 'list', 403],
    ];
    for (const [token, route, status] of cases) {
      const res = await get(ROUTES[route], token);
      expect(res.statusCode, `${route} with ${token}`).toBe(status);
      if (status === 403) {
        const scope = route === 'counts' ? 'segments:read' : 'customers:read';
        const name = token === CUSTOMERS ? 'campaign-engine' : 'dashboard';
        expect(res.json()).toEqual({ error: 'forbidden', message: `token ${name} lacks the scope ${scope} this route needs` });
        expect(res.headers['content-type']).toMatch(/^application\/json/);
      }
    }
    expect((await get(ROUTES.customer, CUSTOMERS)).json()).toMatchObject({ customerId: CUSTOMER });
    const after = await metrics();
    expect(denied(after, 'forbidden', 'campaign-engine') - denied(before, 'forbidden', 'campaign-engine')).toBe(1);
    expect(denied(after, 'forbidden', 'dashboard') - denied(before, 'forbidden', 'dashboard')).toBe(3);
    expect(denied(after, 'forbidden', 'token-1')).toBe(0);
  });

  it('answers 401 to a missing, malformed or unknown token on every route that needs one, the operational ones open', async () => {
    const before = denied(await metrics(), 'unauthenticated', '');
    let refused = 0;
    for (const url of [...Object.values(ROUTES), '/no/such/route']) {
      for (const headers of [{}, { authorization: `Bearer ${ALL}x` }, { authorization: `Basic ${ALL}` }, { authorization: 'Bearer' }]) {
        const res = await api.app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, url).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect((res.json() as ErrorBody).error).toBe('unauthorized');
        refused++;
      }
    }
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect((await get(url)).statusCode, url).toBe(200);
    expect(denied(await metrics(), 'unauthenticated', '') - before).toBe(refused);
  });

  it("answers 429 with Retry-After once a token's bucket is empty, forbidden requests included, other tokens unaffected", async () => {
    // The first request is forbidden but takes from the bucket all the same.
    expect((await get(ROUTES.counts, SLOW)).statusCode).toBe(403);
    expect((await get(ROUTES.customer, SLOW)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await get(ROUTES.customer, SLOW);
      expect(res.statusCode).toBe(429);
      const retryAfter = res.headers['retry-after'];
      expect(retryAfter).toMatch(/^[1-9]\d*$/);
      // A token comes back every 100 s, so the wait is never longer.
      expect(Number(retryAfter)).toBeLessThanOrEqual(100);
      expect(res.json()).toEqual({ error: 'rate_limited', message: `token slow is over its rate limit: retry in ${retryAfter} s` });
    }
    expect((await get(ROUTES.customer, CUSTOMERS)).statusCode).toBe(200);
    const text = await metrics();
    expect(denied(text, 'rate_limited', 'slow')).toBe(3);
    expect(denied(text, 'forbidden', 'slow')).toBe(1);
    expect(denied(text, 'rate_limited', 'campaign-engine')).toBe(0);
  });

  it('never puts a secret or a customer id in a metric', async () => {
    const text = await metrics();
    for (const secret of [ALL, CUSTOMERS, SEGMENTS, SLOW, CUSTOMER]) expect(text).not.toContain(secret);
  });
});
