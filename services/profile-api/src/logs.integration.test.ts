/**
 * No log line carries a customer id, even when a request fails on the customer's stored data:
 * corrupt records are written into real Redis, requested, and every captured line (at trace
 * level, without the production redaction paths) is searched for the id.
 */
import { partitionFor, partitionKeys } from '@crm/store';
import { type LogSink, logSink, testRedis } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { PARTITIONS, registeredState, testApi, writeRecord } from './testing/api.ts';

const TOKEN = 'tok_logs_integration_test_00000001';

/** Distinctive ids: a hit on `marker` anywhere in a line is a leak. */
const customer = (marker: string) => `${marker}.jane+doe@example.com`;

describe('profile API logs', () => {
  const redis = testRedis();
  const started: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const api of started) await api.stop();
    await redis.quit();
  });

  /** A started API logging into a fresh sink, and a customer id whose `marker` no line may hold. */
  async function setup(tag: string) {
    const sink = logSink('trace');
    const { api, prefix } = testApi([TOKEN], { log: sink.logger });
    await api.start({ listen: false });
    started.push(api);
    const marker = `${tag}${Math.random().toString(36).slice(2, 10)}`;
    const get = (id: string) => api.app.inject({ method: 'GET', url: `/customers/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${TOKEN}` } });
    return { sink, api, prefix, marker, id: customer(marker), get };
  }

  function expectNoLeak(sink: LogSink, markers: string[]) {
    const text = sink.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const m of markers) expect(text).not.toContain(m);
  }

  it.each([
    // The last column: whether the customer list fails too (it reads no history).
    ['a record without its version prefix', (id: string) => `${id} is not a record`, true],
    ['a state missing a field', (id: string) => `1||${registeredState(id).replace('||', '|')}`, true],
    ['a state with an unknown segment code', (id: string) => `1||${registeredState(id).replace('|-0----|', '|-z----|')}`, true],
    ['a corrupt history', (id: string) => `3|${id}|${registeredState(id)}`, false],
  ])('answers 500 for %s, logging the failure without the id', async (_what, record, listFails) => {
    const { sink, api, prefix, marker, id, get } = await setup('corrupt');
    await writeRecord(redis, prefix, id, record(id));
    const res = await get(id);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal', message: 'internal error' });
    // The customer list reads the same record: the same answer, the same silence about the id.
    const list = await api.app.inject({ method: 'GET', url: '/customers', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(list.statusCode).toBe(listFails ? 500 : 200);
    expect(sink.lines.filter((l) => l['msg'] === 'request failed').map((l) => l['route'])).toEqual(['/customers/:id', ...(listFails ? ['/customers'] : [])]);
    const failed = sink.lines.find((l) => l['msg'] === 'request failed');
    expect(failed).toMatchObject({
      route: '/customers/:id',
      error: { type: expect.any(String), stack: expect.arrayContaining([expect.stringMatching(/^at /)]) },
    });
    expect(sink.lines.find((l) => l['msg'] === 'request')).toMatchObject({ route: '/customers/:id', status: 500 });
    expectNoLeak(sink, [marker, encodeURIComponent(id)]);
  });

  it('logs a Redis command error without its arguments', async () => {
    const { sink, prefix, marker, id, get } = await setup('wrongtype');
    // The partition's state hash is a string: HGET fails with WRONGTYPE, an ioredis ReplyError
    // that carries the command's arguments (the key and the customer id).
    await redis.set(partitionKeys(prefix, partitionFor(id, PARTITIONS)).state, 'not a hash');
    const res = await get(id);
    expect(res.statusCode).toBe(500);
    expect(sink.lines.find((l) => l['msg'] === 'request failed')).toMatchObject({ error: { type: 'ReplyError' } });
    expectNoLeak(sink, [marker, encodeURIComponent(id)]);
  });

  it('logs served, missing and refused requests by route pattern only', async () => {
    const { sink, api, prefix, marker, id, get } = await setup('served');
    await writeRecord(redis, prefix, id, `1||${registeredState(id)}`);
    expect((await get(id)).statusCode).toBe(200);
    expect((await get(customer(`${marker}x`))).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'GET', url: `/customers/${encodeURIComponent(id)}` })).statusCode).toBe(401);
    expect((await api.app.inject({ method: 'GET', url: `/segments/stage/new/members?cursor=${marker}` })).statusCode).toBe(401);
    expect(sink.lines.filter((l) => l['msg'] === 'request').map((l) => [l['route'], l['status']])).toEqual([
      ['/customers/:id', 200],
      ['/customers/:id', 404],
      ['/customers/:id', 401],
      ['/segments/:dimension/:value/members', 401],
    ]);
    expectNoLeak(sink, [marker, TOKEN]);
  });
});
