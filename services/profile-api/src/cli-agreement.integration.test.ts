/**
 * The profile API and the CLI read the same customers alike, over a segmenter-filled Redis in
 * quantile scoring mode (the CLI's fixture): `GET /customers/:id?at=T` shows what
 * `crm customer show --json --at T` shows (scores from the stored cuts, fields at T,
 * memberships as stored), and `GET /customers?at=T`, paged, returns every customer exactly
 * once with the records `crm customers export --at T` writes, with and without `where`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@crm/cli';
import { QUANTILE_PARTITIONS, captureIo, quantileCustomers } from '@crm/cli/testing';
import { type CustomerState, DAY_MS, describe as describeState, withRfmCuts } from '@crm/domain';
import { silentLogger } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { Customer, type CustomerItem, CustomerPage } from './schemas.ts';
import { ProfileApi } from './service.ts';

const TOKEN = 'tok_profile_api_cli_agreement_0001';

describe('profile API reads agree with the CLI (quantile scoring)', { timeout: 240_000 }, () => {
  const q = quantileCustomers();
  const dir = mkdtempSync(join(tmpdir(), 'profile-api-cli-'));
  writeFileSync(join(dir, 'tokens'), `${TOKEN}\n`);
  const api = new ProfileApi(
    loadConfig({
      ...q.env,
      CRM_PARTITIONS: String(QUANTILE_PARTITIONS),
      PROFILE_API_TOKENS_FILE: join(dir, 'tokens'),
      PROFILE_API_RATE_LIMIT: '1000000',
      PROFILE_API_RATE_LIMIT_BURST: '1000000',
      // The segmenter's env says stream; the API reads at ?at= here (the stream clock is instant.integration.test.ts's).
      CRM_CLOCK: 'wall',
    }),
    silentLogger,
  );
  const get = async (url: string) => {
    const res = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return res.json() as unknown;
  };
  /** The CLI's JSON output (one document, or JSON lines). */
  const cli = async (args: string[]): Promise<unknown[]> => {
    const io = captureIo(q.env);
    expect(await run(args, io), io.err()).toBe(0);
    return io
      .out()
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown);
  };
  /** Every page of `GET /customers?<query>` (limit 7: pages end inside HSCAN replies). */
  const allPages = async (query: string): Promise<CustomerPage[]> => {
    const pages: CustomerPage[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = CustomerPage.parse(await get(`/customers?limit=7&${query}${cursor === '' ? '' : `&cursor=${cursor}`}`));
      expect(page.customers.length).toBeLessThanOrEqual(7);
      pages.push(page);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  };
  /** An item as the export's line reads: memberships and derived fields flat, asOf as evaluatedAt. */
  const asExportRow = ({ customerId, partition, at, asOf, memberships, derived }: CustomerItem) => ({
    customerId,
    partition,
    at,
    evaluatedAt: asOf,
    ...memberships,
    ...derived,
  });

  beforeAll(async () => {
    await q.setup();
    await api.start({ listen: false });
  });
  afterAll(async () => {
    await api.stop();
    await q.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /customers/:id shows what crm customer show --json shows: stored-cut scores, fields at the instant', async () => {
    const inForce = withRfmCuts(q.f.config.domain, q.cuts().cuts);
    let differFromConfigured = 0;
    for (const id of [...q.stored.keys()].sort().slice(0, 12)) {
      const state = q.stored.get(id) as CustomerState;
      const at = new Date(state.asOf + 40 * DAY_MS).toISOString();
      const body = Customer.parse(await get(`/customers/${id}?at=${at}`));
      const [report] = (await cli(['customer', 'show', id, '--json', '--at', at])) as [Record<string, unknown>];
      expect(body).toMatchObject({ customerId: id, at, atSource: 'query', partition: report['partition'], version: report['version'] });
      expect(report['at']).toBe(at);
      expect(body.memberships).toEqual(report['memberships']);
      expect(body.reasons).toEqual(report['reasons']);
      expect({ ...body.derived, evaluatedAt: body.asOf }).toEqual(report['fields']);
      // At T, 40 days after the last evaluation: recency counts to T, not to asOf.
      if (body.derived.lastPurchaseAt !== null)
        expect(body.derived.recencyDays).toBe(Math.floor((Date.parse(at) - Date.parse(body.derived.lastPurchaseAt)) / DAY_MS));
      // The index's scores are the stored cuts': the reasons the segmenter recorded hold with them.
      expect(body.reasons).toEqual(describeState(state, inForce).reasons);
      const configured = describeState(state, q.f.config.domain);
      const stored = describeState(state, inForce);
      if (configured.r !== stored.r || configured.f !== stored.f || configured.m !== stored.m) differFromConfigured++;
    }
    // The check has teeth: the configured cuts would have scored some of them otherwise.
    expect(differFromConfigured).toBeGreaterThan(0);
  });

  it('GET /customers returns every customer exactly once across pages, equal to crm customers export at the same at', async () => {
    const T = Math.max(...[...q.stored.values()].map((s) => s.asOf)) + 10 * DAY_MS;
    const at = new Date(T).toISOString();
    const pages = await allPages(`at=${at}`);
    expect(pages.every((p) => p.at === at && p.atSource === 'query' && p.where === null)).toBe(true);
    const items = pages.flatMap((p) => p.customers);
    expect(items.map((c) => c.customerId).sort()).toEqual([...q.stored.keys()].sort());
    expect(new Set(items.map((c) => c.customerId)).size).toBe(items.length);
    expect(items.every((c) => c.at === at && c.atSource === 'query')).toBe(true);
    const exported = new Map((await cli(['customers', 'export', '--at', at])).map((r) => [(r as { customerId: string }).customerId, r]));
    expect(exported.size).toBe(q.stored.size);
    for (const item of items) expect(asExportRow(item), item.customerId).toEqual(exported.get(item.customerId));
  });

  it('GET /customers?where= returns the records crm customers export --where does', async () => {
    const at = new Date(Date.now()).toISOString();
    const stages = Map.groupBy([...q.stored.values()], (s) => s.memberships.stage);
    const [stage] = [...stages.entries()].sort((a, b) => b[1].length - a[1].length)[0] as [string, CustomerState[]];
    for (const [where, flag] of [
      [`stage:${stage}`, `stage=${stage}`],
      ['custom:big_spender', 'custom=big_spender'],
    ] as const) {
      const items = (await allPages(`where=${where}&at=${at}`)).flatMap((p) => p.customers);
      const exported = await cli(['customers', 'export', '--where', flag, '--at', at]);
      expect(items.length, where).toBeGreaterThan(0);
      expect(items.map(asExportRow).sort(byId), where).toEqual((exported as { customerId: string }[]).sort(byId));
    }
  });

  it('reads at the wall clock by default: recency counts to the time of the request', async () => {
    const before = Date.now();
    const page = CustomerPage.parse(await get('/customers?limit=500'));
    expect(page.customers.length).toBe(q.stored.size);
    expect(page.atSource).toBe('wall_clock');
    expect(Date.parse(page.at as string)).toBeGreaterThanOrEqual(before);
    let staleAtAsOf = 0;
    for (const c of page.customers) {
      if (c.derived.lastPurchaseAt === null) continue;
      expect(c.derived.recencyDays, c.customerId).toBe(Math.floor((Date.parse(c.at) - Date.parse(c.derived.lastPurchaseAt)) / DAY_MS));
      // Derived at asOf (the stream's last event, a day ago or more) it would have read otherwise.
      if (c.derived.recencyDays !== Math.floor((Date.parse(c.asOf) - Date.parse(c.derived.lastPurchaseAt)) / DAY_MS)) staleAtAsOf++;
    }
    expect(staleAtAsOf).toBeGreaterThan(0);
  });
});

const byId = (a: { customerId: string }, b: { customerId: string }) => (a.customerId < b.customerId ? -1 : 1);
