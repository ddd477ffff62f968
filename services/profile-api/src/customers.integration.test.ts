/**
 * The customer reads' instant and the customer list's paging and validation, against real
 * Redis with records written straight under the API's own key prefix (no segmenter): the
 * stream clock (`<prefix>:stream-clock`, CRM_CLOCK=stream) and its fallback to the state's
 * asOf, a list of hundreds of customers paged exactly once, and 400s for bad parameters.
 */
import { DAY_MS } from '@crm/domain';
import { globalKeys, partitionFor, partitionKeys } from '@crm/store';
import { testRedis } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from './cursor.ts';
import { Customer, CustomerPage, type ErrorBody } from './schemas.ts';
import { PARTITIONS, registeredState, testApi } from './testing/api.ts';

const TOKEN = 'tok_customers_list_test_000000001';
/** Enough for partition 0 to leave the listpack encoding (128 fields): HSCAN then answers in parts. */
const CUSTOMERS = Array.from({ length: 450 }, (_, i) => `cust-${String(i).padStart(4, '0')}`);

describe('customer reads at the stream time, and the customer list', () => {
  const redis = testRedis();
  const { api, prefix } = testApi([TOKEN], { env: { CRM_CLOCK: 'stream', PROFILE_API_RATE_LIMIT: '1000000', PROFILE_API_RATE_LIMIT_BURST: '1000000' } });
  const get = (url: string) => api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
  const clockKey = globalKeys(prefix).streamClock;
  /** The registered state's asOf: its registration, at the time the record was built. */
  let asOf: string;

  beforeAll(async () => {
    const pipeline = redis.pipeline();
    for (const id of CUSTOMERS) pipeline.hset(partitionKeys(prefix, partitionFor(id, PARTITIONS)).state, id, `1||${registeredState(id)}`);
    await pipeline.exec();
    await api.start({ listen: false });
    asOf = Customer.parse((await get(`/customers/${CUSTOMERS[0]}`)).json()).asOf;
  });
  afterAll(async () => {
    await api.stop();
    await redis.quit();
  });

  it("reads at the stream time when one is stored, else at the state's asOf, and says which", async () => {
    await redis.del(clockKey);
    const none = Customer.parse((await get(`/customers/${CUSTOMERS[0]}`)).json());
    expect(none).toMatchObject({ at: none.asOf, atSource: 'state' });
    const page = CustomerPage.parse((await get('/customers?limit=3')).json());
    expect(page).toMatchObject({ at: null, atSource: 'state' });
    expect(page.customers.every((c) => c.atSource === 'state' && c.at === c.asOf)).toBe(true);

    const stream = Date.parse(asOf) + 3 * DAY_MS;
    await redis.set(clockKey, String(stream));
    const at = new Date(stream).toISOString();
    const read = Customer.parse((await get(`/customers/${CUSTOMERS[0]}`)).json());
    expect(read).toMatchObject({ at, atSource: 'stream_clock', asOf });
    const streamPage = CustomerPage.parse((await get('/customers?limit=3')).json());
    expect(streamPage).toMatchObject({ at, atSource: 'stream_clock' });
    expect(streamPage.customers.every((c) => c.at === at && c.atSource === 'stream_clock')).toBe(true);
    // ?at= wins over the clock.
    const query = new Date(stream + DAY_MS).toISOString();
    expect(Customer.parse((await get(`/customers/${CUSTOMERS[0]}?at=${query}`)).json())).toMatchObject({ at: query, atSource: 'query' });

    // A stream time that is not epoch ms is the deployment's fault: 500, the key named in the log only.
    await redis.set(clockKey, 'soon');
    const bad = await get(`/customers/${CUSTOMERS[0]}`);
    expect(bad.statusCode).toBe(500);
    expect(bad.json()).toEqual({ error: 'internal', message: 'internal error' });
    await redis.del(clockKey);
  });

  it.each([1, 37, 500])('lists every customer exactly once across pages (limit %i)', async (limit) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/customers?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = CustomerPage.parse(res.json());
      expect(page.customers.length).toBeLessThanOrEqual(limit);
      seen.push(...page.customers.map((c) => c.customerId));
      for (const c of page.customers) expect(c.partition).toBe(partitionFor(c.customerId, PARTITIONS));
      cursor = page.nextCursor;
      expect(++pages).toBeLessThan(1000);
    } while (cursor !== null);
    expect(seen.length).toBe(CUSTOMERS.length);
    expect(new Set(seen)).toEqual(new Set(CUSTOMERS));
  });

  it('filters by a segment with where=dimension:value', async () => {
    // Registered customers are prospects; the index's sets are written here as the segmenter would.
    const members = CUSTOMERS.slice(0, 20);
    for (const id of members) await redis.sadd(partitionKeys(prefix, partitionFor(id, PARTITIONS)).members('stage', 'prospect'), id);
    // A member of the set whose stored state no longer holds the membership is left out.
    await redis.sadd(partitionKeys(prefix, partitionFor(CUSTOMERS[30] as string, PARTITIONS)).members('stage', 'new'), CUSTOMERS[30] as string);
    const list = async (where: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = CustomerPage.parse((await get(`/customers?limit=6&where=${where}${cursor === null ? '' : `&cursor=${cursor}`}`)).json());
        expect(page.where).toBe(where);
        ids.push(...page.customers.map((c) => c.customerId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return ids;
    };
    expect((await list('stage:prospect')).sort()).toEqual(members);
    expect(await list('stage:new')).toEqual([]);
  });

  it('answers 400 naming the parameter for a bad limit, where, at or cursor', async () => {
    const walkCursor = (walk?: string) => encodeCursor({ p: 0, c: '0', after: null, end: null }, walk);
    const cases: Array<[query: string, path: string, message: RegExp]> = [
      ['limit=0', 'query.limit', /./],
      ['limit=501', 'query.limit', /./],
      ['where=stage', 'query.where', /must be dimension:value/],
      ['where=colour:red', 'query.where', /colour is not a dimension: one of rfm_segment, /],
      ['where=stage:gold', 'query.where', /gold is not a value of stage: one of prospect, /],
      ['where=custom:nobody', 'query.where', /no user-defined segment named nobody/],
      ['at=tomorrow', 'query.at', /ISO-8601 UTC instant/],
      ['cursor=not*a*cursor', 'query.cursor', /not a cursor returned by this API/],
      // A segment member cursor, or one of another filter, is not this listing's.
      [`cursor=${walkCursor()}`, 'query.cursor', /from another listing/],
      [`cursor=${walkCursor('customers?stage:new')}`, 'query.cursor', /from another listing/],
      [`where=stage:prospect&cursor=${walkCursor('customers')}`, 'query.cursor', /from another listing/],
    ];
    for (const [query, path, message] of cases) {
      const res = await get(`/customers?${query}`);
      expect(res.statusCode, query).toBe(400);
      const body = res.json() as ErrorBody;
      expect(body.error).toBe('bad_request');
      expect(body.details?.[0]?.path, query).toBe(path);
      expect(body.details?.[0]?.message, query).toMatch(message);
    }
    // The listing's own cursor is accepted.
    expect((await get(`/customers?cursor=${walkCursor('customers')}`)).statusCode).toBe(200);
    // The member route keeps its answers: 404 for an unknown custom segment, 400 for a value not of the vocabulary.
    expect((await get('/segments/custom/nobody/members')).statusCode).toBe(404);
    expect((await get('/segments/stage/gold/members')).statusCode).toBe(400);
  });
});
