/** `crm import orders` against the real broker and registry: what it counts is what lands in the topic. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrderEvent } from '@crm/contracts';
import { isolatedEnv } from '@crm/segmenter/testing';
import { readTopic, testKafka } from '@crm/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImportSummary } from './commands/import.ts';
import { captureIo } from './testing/io.ts';
import { readImportedOrders } from './testing/orders.ts';
import { writeRetailCsv } from './testing/retail-csv.ts';
import { run } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'crm-import-'));
const kafka = testKafka();

const CSV = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,"WHITE METAL LANTERN, LARGE",6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047,United Kingdom
536367,22745,POPPY'S PLAYHOUSE BEDROOM,0,12/1/2010 8:34,2.10,13047,United Kingdom
536367,22748,POPPY'S PLAYHOUSE KITCHEN,6,12/1/2010 8:34,free,13047,United Kingdom
C536368,22960,JAM MAKING SET WITH JARS,-1,12/1/2010 9:01,4.25,13047,United Kingdom
536369,21756,BATH BUILDING BLOCK WORD,3,12/1/2010 8:35,5.95,13047,United Kingdom
536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/31/2010 25:00,3.75,12583,France
536367,22749,FELTCRAFT PRINCESS CHARLOTTE DOLL,8,12/1/2010 8:34,3.75,13047,United Kingdom
`;

function order(id: string, customer: string, time: string, amountMinor: number, itemCount: number): OrderEvent {
  return {
    specversion: '1.0',
    id: `import-${id}`,
    source: 'urn:crm:cli:import',
    type: 'commerce.order.completed',
    time,
    subject: customer,
    data: { orderId: id, amountMinor, currency: 'GBP', itemCount, channel: 'online', storeId: null },
  };
}

describe('crm import orders', () => {
  const { env, config } = isolatedEnv();
  beforeAll(async () => {
    expect(await run(['topics', 'create', '--partitions', '3'], captureIo(env))).toBe(0);
  });

  it('dry run counts and produces nothing; the import produces exactly the orders it counts', async () => {
    const file = join(dir, 'small.csv');
    writeFileSync(file, CSV);
    const dry = captureIo(env);
    expect(await run(['import', 'orders', file, '--dry-run', '--json'], dry)).toBe(0);
    expect(await readTopic(kafka, config.topics.orders)).toEqual([]);

    const io = captureIo(env);
    expect(await run(['import', 'orders', file, '--json'], io)).toBe(0);
    const summary = JSON.parse(io.out()) as ImportSummary;
    expect(JSON.parse(dry.out())).toMatchObject({ ...summary, dryRun: true, elapsedMs: expect.any(Number), rowsPerSecond: expect.any(Number) });
    expect(summary).toMatchObject({
      rows: 10,
      orders: 3,
      rowsInOrders: 5,
      format: 'avro',
      skipped: { no_customer: 1, bad_quantity: 1, bad_price: 1, credit_note: 1, bad_date: 1, non_contiguous: 0 },
    });
    const produced = (await readImportedOrders(kafka, env['SCHEMA_REGISTRY_URL'] as string, config.topics.orders)) as OrderEvent[];
    expect(produced.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        order('536365', '17850', '2010-12-01T08:26:00Z', 6 * 255 + 6 * 339, 12),
        // The doll's line comes after other invoices: it joins its invoice all the same.
        order('536367', '13047', '2010-12-01T08:34:00Z', 32 * 169 + 8 * 375, 40),
        order('536369', '13047', '2010-12-01T08:35:00Z', 3 * 595, 3),
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });
});

describe('crm import orders (generated export)', () => {
  const isolated = isolatedEnv();
  const config = isolated.config;
  // Empty: no registry, JSON values (unset would mean the local registry).
  const env = { ...isolated.env, SCHEMA_REGISTRY_URL: '' };
  it('counts every skip the generator planted and produces one record per order (JSON without a registry)', async () => {
    expect(await run(['topics', 'create', '--partitions', '2'], captureIo(env))).toBe(0);
    const file = join(dir, 'generated.csv');
    const expected = await writeRetailCsv(file, { rows: 3_000, seed: 11, customers: 300 });
    const io = captureIo(env);
    expect(await run(['import', 'orders', file, '--json'], io)).toBe(0);
    const s = JSON.parse(io.out()) as ImportSummary;
    expect(s.format).toBe('json');
    expect({ rows: s.rows, orders: s.orders, rowsInOrders: s.rowsInOrders }).toEqual({
      rows: expected.rows,
      orders: expected.orders,
      rowsInOrders: expected.rowsInOrders,
    });
    expect(Object.fromEntries(Object.entries(s.skipped).filter(([, n]) => n > 0))).toEqual(expected.skipped);
    const produced = (await readTopic(kafka, config.topics.orders)).map((m) => JSON.parse(m.message.value?.toString() ?? '') as OrderEvent);
    expect(produced).toHaveLength(expected.orders);
    expect(produced.reduce((n, o) => n + o.data.amountMinor, 0)).toBe(expected.amountMinor);
    expect(new Set(produced.map((o) => o.id)).size).toBe(expected.orders);
  });
});
