/**
 * The profile API over a Redis filled by a real segmenter (Kafka in, Redis state), on three
 * partitions: every route, auth, validation, segment counts against the member sets, and
 * paging across partitions. The API runs in-process and is driven with fastify's inject.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dimension, InputEvent } from '@crm/contracts';
import { type CustomerState, DAY_MS, MEMBERSHIP_FIELD, apply, readCustomer } from '@crm/domain';
import type { Segmenter } from '@crm/segmenter';
import { isolatedEnv, startInProcess } from '@crm/segmenter/testing';
import { partitionKeys, partitionFor } from '@crm/store';
import { silentLogger, testKafka, testRedis, waitFor } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { Customer, type ErrorBody, MemberPage, SegmentCounts } from './schemas.ts';
import { ProfileApi } from './service.ts';

const PARTITIONS = 3;
const TOKEN = 'tok_profile_api_integration_test_0001';
const dir = mkdtempSync(join(tmpdir(), 'profile-api-it-'));
const domainFile = join(dir, 'domain.json');
writeFileSync(domainFile, JSON.stringify({ segments: [{ name: 'big_spenders', rule: { field: 'monetaryMinor', op: 'gte', value: 10_000 } }] }));
const tokensFile = join(dir, 'tokens');
writeFileSync(tokensFile, `# campaign engine\n${TOKEN}\n`);

// Whole seconds: the domain keeps time to the second. Every fact is days away from any threshold.
const now = Math.floor(Date.now() / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
const base = (customer: string, at: number) => ({ specversion: '1.0' as const, id: `api-${customer}-${++seq}`, time: iso(at), subject: customer });
const registered = (c: string): InputEvent => ({
  ...base(c, now - 20 * DAY_MS),
  source: 'urn:test:profiles',
  type: 'customer.registered',
  data: { signupChannel: 'web', marketingConsent: true },
});
const completed = (c: string, amountMinor: number): InputEvent => ({
  ...base(c, now - 10 * DAY_MS),
  source: 'urn:test:orders',
  type: 'commerce.order.completed',
  data: { orderId: `o-${c}-${seq}`, amountMinor, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
});
const contact = (c: string, csat: number, nps: number | null, complaint: boolean): InputEvent => ({
  ...base(c, now - 5 * DAY_MS),
  source: 'urn:test:service',
  type: 'service.interaction.recorded',
  data: {
    interactionId: `i-${c}-${seq}`,
    caseId: null,
    channel: 'phone',
    reason: complaint ? 'complaint' : 'inquiry',
    resolution: complaint ? 'pending' : 'resolved',
    handleTimeSeconds: 120,
    csat,
    nps,
  },
});

// Twelve customers over three partitions: eight buyers (2,500 to 20,000 minor units; the last
// five are big spenders), four prospects; one promoter, one with an open complaint.
const customers = Array.from({ length: 12 }, (_, i) => `cust-${String(i + 1).padStart(2, '0')}`);
const buyers = customers.slice(0, 8);
const events: InputEvent[] = [
  ...customers.map(registered),
  ...buyers.map((c, i) => completed(c, (i + 1) * 2_500)),
  contact('cust-02', 5, 10, false),
  contact('cust-03', 1, null, true),
];

/** What the pure domain makes of each customer's events: the API must show the same. */
const expected = new Map<string, CustomerState>();
for (const e of events)
  expected.set(
    e.subject,
    apply(expected.get(e.subject) ?? null, e, loadConfig({ REDIS_URL: 'redis://x', PROFILE_API_TOKENS_FILE: tokensFile, CRM_DOMAIN_CONFIG: domainFile }).domain)
      .state,
  );

describe('profile API over a segmenter-filled Redis', () => {
  const { config: segConfig, env } = isolatedEnv({ CRM_PARTITIONS: String(PARTITIONS), CRM_DOMAIN_CONFIG: domainFile });
  const redis = testRedis();
  const kafka = testKafka();
  const apiConfig = loadConfig({
    REDIS_URL: env['REDIS_URL'],
    CRM_KEY_PREFIX: segConfig.keyPrefix,
    CRM_TOPIC_SUFFIX: segConfig.topicSuffix,
    CRM_PARTITIONS: String(PARTITIONS),
    PROFILE_API_TOKENS_FILE: tokensFile,
    CRM_DOMAIN_CONFIG: domainFile,
    // Paging every segment a member at a time is hundreds of requests: no rate limit in the way.
    PROFILE_API_RATE_LIMIT: '1000000',
    PROFILE_API_RATE_LIMIT_BURST: '1000000',
  });
  const api = new ProfileApi(apiConfig, silentLogger);
  let segmenter: Segmenter | undefined;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (url: string, headers: Record<string, string> = auth) => api.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    segmenter = await startInProcess(segConfig);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    const topicOf = (e: InputEvent) =>
      e.type.startsWith('commerce.') ? segConfig.topics.orders : e.type.startsWith('service.') ? segConfig.topics.interactions : segConfig.topics.profiles;
    const topics = [segConfig.topics.profiles, segConfig.topics.orders, segConfig.topics.interactions];
    for (const topic of topics) {
      const messages = events.filter((e) => topicOf(e) === topic).map((e) => ({ key: e.subject, value: JSON.stringify(e) }));
      await producer.send({ topic, acks: -1, messages });
    }
    // Applied when every partition's fence has reached the end of every input topic.
    const ends = await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const));
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    await waitFor('all events applied', async () => {
      for (const [topic, offsets] of ends)
        for (const { partition, high } of offsets) {
          if (high === '0') continue;
          if ((await redis.hget(partitionKeys(segConfig.keyPrefix, partition).fence, topic)) !== high) return false;
        }
      return true;
    });
    await api.start({ listen: false });
  });

  afterAll(async () => {
    await api.stop();
    await segmenter?.stop();
    await redis.quit();
  });

  it("serves each customer's state from the partition Kafka's partitioner chose", async () => {
    expect(new Set(buyers.map((c) => partitionFor(c, PARTITIONS)))).toEqual(new Set([0, 1, 2]));
    for (const id of customers) {
      const res = await get(`/customers/${id}`);
      expect(res.statusCode, id).toBe(200);
      const body = Customer.parse(res.json());
      const want = expected.get(id) as CustomerState;
      // The segmenter stored the customer where the producer's partitioner put its events.
      expect(await redis.hexists(partitionKeys(segConfig.keyPrefix, body.partition).state, id)).toBe(1);
      expect(body.partition).toBe(partitionFor(id, PARTITIONS));
      expect(body.customerId).toBe(id);
      expect(body.memberships).toEqual(want.memberships);
      // Derived at the wall clock of the request, which the response names.
      expect(body.atSource).toBe('wall_clock');
      expect(Date.parse(body.at)).toBeGreaterThanOrEqual(now);
      const view = readCustomer(want, Date.parse(body.at), apiConfig.domain).fields;
      expect(body.asOf).toBe(iso(want.asOf));
      expect(body.derived).toMatchObject({
        recencyDays: view.recencyDays,
        frequency: view.frequency,
        monetaryMinor: view.monetaryMinor,
        r: view.r,
        f: view.f,
        m: view.m,
        points: view.points,
        csatAvg: view.csatAvg,
        npsClass: view.npsClass,
        openComplaints: view.openComplaints,
        marketingConsent: view.marketingConsent,
        registered: true,
      });
      expect(body.facts.orders.length).toBe(buyers.includes(id) ? 1 : 0);
      // Recent changes: most recently committed first (a late event commits after events with
      // later times), at most CRM_HISTORY_LENGTH (5), and the latest change of each dimension
      // kept lands where the stored membership is.
      const recent = body.recentChanges;
      expect(recent.length, id).toBeGreaterThan(0);
      expect(recent.length).toBeLessThanOrEqual(5);
      const newest = new Map<Exclude<Dimension, 'custom'>, string | null>();
      for (const c of [...recent].reverse()) if (c.dimension !== 'custom') newest.set(c.dimension, c.to);
      for (const [dimension, to] of newest) expect(body.memberships[MEMBERSHIP_FIELD[dimension]], `${id} ${dimension}`).toEqual(to);
    }
    const promoter = Customer.parse((await get('/customers/cust-02')).json());
    // Memberships were evaluated at asOf, her latest fact (the contact 5 days ago); derived
    // fields hold at the request: her purchase was 10 days ago, not 5.
    expect(promoter.asOf).toBe(iso(now - 5 * DAY_MS));
    expect(promoter.derived).toMatchObject({ npsClass: 'promoter', csatAvg: 5, recencyDays: 10, lastPurchaseAt: iso(now - 10 * DAY_MS) });
    expect(promoter.facts.nps).toEqual({ value: 10, at: iso(now - 5 * DAY_MS) });
    const complainer = Customer.parse((await get('/customers/cust-03')).json());
    expect(complainer.derived.openComplaints).toBe(1);
    expect(complainer.memberships.expectationGap).toBe('unmet');
    expect(Customer.parse((await get('/customers/cust-08')).json()).memberships.custom).toEqual(['big_spenders']);
  });

  it("names the segmenter's topics, suffix included, in recent changes (the histories leave the suffix out)", async () => {
    expect(segConfig.topicSuffix).not.toBe('');
    const input = new Set([segConfig.topics.orders, segConfig.topics.interactions, segConfig.topics.profiles]);
    const causes = Customer.parse((await get('/customers/cust-03')).json()).recentChanges.map((c) => c.cause);
    expect(causes.length).toBeGreaterThan(0);
    for (const cause of causes) expect(input.has(cause.topic ?? ''), cause.topic ?? 'null').toBe(true);
    // The complaint changed her satisfaction: its topic is the interactions topic.
    expect(causes.map((c) => c.topic)).toContain(segConfig.topics.interactions);
  });

  it("derives at the instant of the read: ?at= when given, never before the state's asOf", async () => {
    const at = iso(now + 40 * DAY_MS);
    const later = Customer.parse((await get(`/customers/cust-02?at=${at}`)).json());
    // Recency and tenure count to the read's instant; memberships stay the index's.
    expect(later).toMatchObject({ at, atSource: 'query', asOf: iso(now - 5 * DAY_MS) });
    expect(later.derived).toMatchObject({ recencyDays: 50, tenureDays: 50, lastPurchaseAt: iso(now - 10 * DAY_MS) });
    expect(later.memberships).toEqual((expected.get('cust-02') as CustomerState).memberships);
    // Before asOf: the read is at asOf, and says so.
    const before = Customer.parse((await get(`/customers/cust-02?at=${iso(now - 30 * DAY_MS)}`)).json());
    expect(before).toMatchObject({ at: iso(now - 5 * DAY_MS), atSource: 'state' });
    expect(before.derived.recencyDays).toBe(5);
    for (const bad of ['yesterday', '2026-12-03T12:00:00+01:00', '2026-02-30T00:00:00Z', '']) {
      const res = await get(`/customers/cust-02?at=${encodeURIComponent(bad)}`);
      expect(res.statusCode, bad).toBe(400);
      expect((res.json() as ErrorBody).details?.[0], bad).toMatchObject({ path: 'query.at', message: expect.stringMatching(/ISO-8601 UTC instant/) });
    }
  });

  it('answers 404 for an unknown customer and 400 for an id that cannot be one', async () => {
    const unknown = await get('/customers/nobody-here');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'no such customer' });
    const long = await get(`/customers/${'x'.repeat(129)}`);
    expect(long.statusCode).toBe(400);
    expect((long.json() as ErrorBody).details?.[0]?.path).toBe('path.id');
  });

  it('sums segment counts over the partitions, equal to the member sets', async () => {
    const res = await get('/segments');
    expect(res.statusCode).toBe(200);
    const body = SegmentCounts.parse(res.json());
    expect(body.partitions).toBe(PARTITIONS);
    const wanted = new Map<string, number>();
    const bump = (k: string) => wanted.set(k, (wanted.get(k) ?? 0) + 1);
    for (const s of expected.values()) {
      for (const [d, field] of Object.entries(MEMBERSHIP_FIELD)) if (s.memberships[field] !== null) bump(`${d}:${s.memberships[field]}`);
      for (const name of s.memberships.custom) bump(`custom:${name}`);
    }
    for (const [dimension, values] of Object.entries(body.dimensions)) {
      for (const [value, n] of Object.entries(values as Record<string, number>)) {
        let cardinality = 0;
        for (let p = 0; p < PARTITIONS; p++) cardinality += await redis.scard(partitionKeys(segConfig.keyPrefix, p).members(dimension, value));
        expect(n, `${dimension}:${value}`).toBe(cardinality);
        expect(n, `${dimension}:${value}`).toBe(wanted.get(`${dimension}:${value}`) ?? 0);
      }
    }
    expect(body.dimensions.stage).toMatchObject({ new: 8, prospect: 4, loyal: 0 });
    expect(body.dimensions.custom).toEqual({ big_spenders: 5 });
  });

  /** Follows nextCursor to the end; every page checked against the schema and the limit. */
  async function allPages(path: string, limit: number): Promise<MemberPage[]> {
    const pages: MemberPage[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`${path}?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(res.statusCode).toBe(200);
      const page = MemberPage.parse(res.json());
      expect(page.members.length).toBeLessThanOrEqual(limit);
      pages.push(page);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(100);
    } while (cursor !== null);
    return pages;
  }

  it('pages the members of a segment across partitions, none skipped or repeated', async () => {
    const pages = await allPages('/segments/stage/new/members', 3);
    const all = pages.flatMap((p) => p.members);
    expect(all.length).toBe(buyers.length);
    expect(new Set(all)).toEqual(new Set(buyers));
    // Pages follow the partitions in turn, and with three members a page, at least one spans two.
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.some((p) => new Set(p.members.map((m) => partitionFor(m, PARTITIONS))).size > 1)).toBe(true);
    const order = all.map((m) => partitionFor(m, PARTITIONS));
    expect(order).toEqual([...order].sort());
  });

  it('pages every segment value to exactly its member set, at any page size', async () => {
    const counts = SegmentCounts.parse((await get('/segments')).json());
    for (const [dimension, values] of Object.entries(counts.dimensions)) {
      for (const [value, n] of Object.entries(values as Record<string, number>)) {
        const members: string[] = [];
        for (let p = 0; p < PARTITIONS; p++) members.push(...(await redis.smembers(partitionKeys(segConfig.keyPrefix, p).members(dimension, value))));
        for (const limit of [1, 1000]) {
          const got = (await allPages(`/segments/${dimension}/${value}/members`, limit)).flatMap((p) => p.members);
          expect(got.length, `${dimension}:${value} limit ${limit}`).toBe(n);
          expect(new Set(got)).toEqual(new Set(members));
        }
      }
    }
  });

  it('refuses requests without a valid bearer token, except the operational routes', async () => {
    for (const url of ['/customers/cust-01', '/segments', '/segments/stage/new/members', '/no/such/route']) {
      const missing = await get(url, {});
      expect(missing.statusCode, url).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      expect(missing.json()).toMatchObject({ error: 'unauthorized' });
      const wrong = await get(url, { authorization: `Bearer ${TOKEN}x` });
      expect(wrong.statusCode, url).toBe(401);
      expect(wrong.json()).toEqual({ error: 'unauthorized', message: 'unknown bearer token' });
      expect((await get(url, { authorization: `Basic ${TOKEN}` })).statusCode).toBe(401);
    }
    expect((await get('/healthz', {})).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz', {})).json()).toEqual({ status: 'ready', redis: 'ready' });
    expect((await get('/openapi.json', {})).statusCode).toBe(200);
    const metrics = await get('/metrics', {});
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/crm_api_requests_total\{method="GET",route="\/customers\/:id",status="200"\} \d+/);
    expect(metrics.body).toMatch(/crm_api_request_duration_seconds_count\{method="GET",route="\/segments",status="401"\} \d+/);
    // Customer ids never become label values.
    expect(metrics.body).not.toContain('cust-01');
  });

  it('answers bad parameters with 400 and the offending parameter', async () => {
    const cases: Array<[url: string, path: string]> = [
      ['/segments/colour/blue/members', 'path.dimension'],
      ['/segments/stage/champions/members', 'path.value'],
      ['/segments/stage/new/members?limit=0', 'query.limit'],
      ['/segments/stage/new/members?limit=1001', 'query.limit'],
      ['/segments/stage/new/members?limit=ten', 'query.limit'],
      ['/segments/stage/new/members?cursor=not-a-cursor', 'query.cursor'],
      [`/segments/stage/new/members?cursor=${Buffer.from('[1,7,"0",null,null]').toString('base64url')}`, 'query.cursor'],
    ];
    for (const [url, path] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      const body = res.json() as ErrorBody;
      expect(body.error).toBe('bad_request');
      expect(
        body.details?.map((d) => d.path),
        url,
      ).toContain(path);
    }
    const unknownCustom = await get('/segments/custom/no_such_segment/members');
    expect(unknownCustom.statusCode).toBe(404);
    expect(unknownCustom.json()).toMatchObject({ error: 'not_found' });
  });
});
