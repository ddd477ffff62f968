/**
 * `crm import orders` against the real broker: the orders topic is checked before anything is
 * produced (missing: one line and exit 1, or --create-topics), and with --credit-notes refund
 * a customer's credit note reaches the segmenter as a refund of the order it returns.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, isolatedEnv, waitUntilAllApplied } from '@crm/segmenter/testing';
import { createTopic, testKafka } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImportSummary } from './commands/import.ts';
import type { CustomerReport } from './commands/customer.ts';
import { run } from './run.ts';
import { captureIo } from './testing/io.ts';

const dir = mkdtempSync(join(tmpdir(), 'crm-import-refunds-'));
const HEAD = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

describe('crm import orders: the target topic', () => {
  const file = join(dir, 'one.csv');
  writeFileSync(file, `${HEAD}\n536365,85123A,MUG,6,12/1/2010 8:26,2.55,17850,United Kingdom\n`);

  it('fails in one line naming crm topics create when the orders topic is missing, and creates nothing', async () => {
    const { env, config } = isolatedEnv();
    const io = captureIo(env);
    expect(await run(['import', 'orders', file], io)).toBe(1);
    expect(io.err()).toBe(`crm: topic ${config.topics.orders} does not exist: run crm topics create first (or pass --create-topics)\n`);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(Object.values(config.topics).filter((t) => topics.includes(t))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('creates the project topics, co-partitioned, with --create-topics, then imports', async () => {
    const { env, config } = isolatedEnv({ CRM_PARTITIONS: '2' });
    const io = captureIo(env);
    expect(await run(['import', 'orders', file, '--create-topics', '--json'], io), io.err()).toBe(0);
    expect(io.err()).toContain(`created topics ${Object.values(config.topics).join(', ')}`);
    expect((JSON.parse(io.out()) as ImportSummary).orders).toBe(1);
    const described = captureIo(env);
    expect(await run(['topics', 'describe', '--json'], described)).toBe(0);
    expect(JSON.parse(described.out())).toMatchObject({ coPartitioned: true, topics: Object.values(config.topics).map((topic) => ({ topic, partitions: 2 })) });
  });

  it('creates the orders topic with the partition count of the input topics that exist, not CRM_PARTITIONS', async () => {
    const { env, config } = isolatedEnv({ CRM_PARTITIONS: '2' });
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await createTopic(admin, config.topics.interactions, 4);
    } finally {
      await admin.disconnect();
    }
    const io = captureIo(env);
    expect(await run(['import', 'orders', file, '--create-topics', '--json'], io), io.err()).toBe(0);
    const described = captureIo(env);
    expect(await run(['topics', 'describe', '--json'], described)).toBe(0);
    expect(JSON.parse(described.out()).topics).toEqual(Object.values(config.topics).map((topic) => ({ topic, partitions: 4 })));
  });
});

describe('crm import orders --credit-notes refund, through the segmenter', { timeout: 240_000 }, () => {
  const f = fixture();
  afterAll(() => f.close());

  it("takes a returned line off the customer's lifetime net spend", async () => {
    const file = join(dir, 'refund.csv');
    writeFileSync(
      file,
      [
        HEAD,
        '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom',
        '536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom',
        '536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,13047,United Kingdom',
        // Two of the six holders come back a week later.
        'C536400,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,12/8/2010 10:00,2.55,17850,United Kingdom',
        '',
      ].join('\n'),
    );
    const io = captureIo(f.env);
    expect(await run(['import', 'orders', file, '--credit-notes', 'refund', '--create-topics', '--json'], io), io.err()).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ rows: 4, orders: 2, rowsInOrders: 3, refunds: 1, rowsInRefunds: 1 });

    await f.start();
    await waitUntilAllApplied(f.kafka, f.redis, f.config, 3);
    const show = async (id: string) => {
      const shown = captureIo(f.env);
      expect(await run(['customer', 'show', id, '--json'], shown), shown.err()).toBe(0);
      return (JSON.parse(shown.out()) as CustomerReport).fields;
    };
    expect(await show('17850')).toMatchObject({ lifetimeOrders: 1, lifetimeNetMinor: 6 * 255 + 6 * 339 - 2 * 255 });
    expect(await show('13047')).toMatchObject({ lifetimeOrders: 1, lifetimeNetMinor: 6 * 185 });
  });
});
