/**
 * Member-list cursors over HTTP against real Redis: a malformed cursor is a 400 that says so,
 * never a 500 from Redis refusing it; random cursors (fast-check) only ever get 200 or 400.
 */
import { partitionKeys } from '@crm/store';
import { testRedis } from '@crm/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from './cursor.ts';
import type { ErrorBody } from './schemas.ts';
import { testApi } from './testing/api.ts';
import { anyCursor, b64 } from './testing/cursors.ts';

const TOKEN = 'tok_cursor_integration_test_000001';
const NOT_A_CURSOR = 'cursor is not a cursor returned by this API: pass nextCursor of the previous page unchanged, or none for the first page';

describe('member cursors over HTTP', () => {
  const redis = testRedis();
  // Hundreds of requests in a moment: no rate limit in the way.
  const { api, prefix } = testApi([TOKEN], { env: { PROFILE_API_RATE_LIMIT: '1000000', PROFILE_API_RATE_LIMIT_BURST: '1000000' } });
  const page = (cursor: string) =>
    api.app.inject({
      method: 'GET',
      url: `/segments/stage/new/members?limit=5&cursor=${encodeURIComponent(cursor)}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });

  beforeAll(async () => {
    for (let p = 0; p < 2; p++)
      await redis.sadd(
        partitionKeys(prefix, p).members('stage', 'new'),
        Array.from({ length: 20 }, (_, i) => `m${p}-${i}`),
      );
    await api.start({ listen: false });
  });
  afterAll(async () => {
    await api.stop();
    await redis.quit();
  });

  it.each([
    ['an SSCAN cursor of 2^64', b64('[1,0,"18446744073709551616",null,null]'), NOT_A_CURSOR],
    ['an SSCAN cursor of 20 nines', b64('[1,0,"99999999999999999999",null,null]'), NOT_A_CURSOR],
    ['a negative SSCAN cursor', b64('[1,0,"-1",null,null]'), NOT_A_CURSOR],
    ['a non-numeric SSCAN cursor', b64('[1,0,"abc",null,null]'), NOT_A_CURSOR],
    ['garbage base64', 'Zm9v', NOT_A_CURSOR],
    ['not base64url', 'a+b/c=', NOT_A_CURSOR],
    [
      'a partition beyond the count',
      encodeCursor({ p: 3, c: '0', after: null, end: null }),
      'cursor points at partition 3, but there are 3: it is from another deployment',
    ],
  ])('answers 400 to %s, saying what is wrong', async (_what, cursor, message) => {
    const res = await page(cursor);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'bad_request', message, details: [{ path: 'query.cursor', message }] });
  });

  it('accepts the largest SSCAN cursor Redis takes', async () => {
    expect((await page(encodeCursor({ p: 1, c: '18446744073709551615', after: null, end: null }))).statusCode).toBe(200);
  });

  it('answers any cursor with 200 or 400, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(anyCursor(), async (cursor) => {
        const res = await page(cursor);
        expect([200, 400], `${res.statusCode} ${res.body}`).toContain(res.statusCode);
        if (res.statusCode === 400) {
          const body = res.json() as ErrorBody;
          expect(body.error).toBe('bad_request');
          expect(body.details?.map((d) => d.path)).toContain('query.cursor');
        }
      }),
      { numRuns: 300 },
    );
  });
});
