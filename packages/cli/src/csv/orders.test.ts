import type { OrderEvent } from '@crm/contracts';
import { OrderEvent as OrderEventSchema } from '@crm/contracts';
import { describe, expect, it } from 'vitest';
import { resolveMapping } from './mapping.ts';
import { type AssemblerOptions, OrderAssembler, RECENT_ORDERS, skippedTotal } from './orders.ts';

const options: AssemblerOptions = {
  ...resolveMapping('retail', undefined),
  currency: 'GBP',
  minorDigits: 2,
  channel: 'online',
  source: 'urn:test',
  idPrefix: 'import',
  dayFirst: false,
  eventTimeBounds: { minEventTime: Date.parse('2000-01-01T00:00:00Z'), maxFutureSkewMs: 86_400_000 },
  now: Date.parse('2026-06-01T00:00:00Z'),
};

const row = (InvoiceNo: string, Quantity: string, UnitPrice: string, CustomerID = '17850', InvoiceDate = '12/1/2010 8:26') => ({
  InvoiceNo,
  StockCode: '85123A',
  Description: 'WHITE HANGING HEART T-LIGHT HOLDER',
  Quantity,
  InvoiceDate,
  UnitPrice,
  CustomerID,
  Country: 'United Kingdom',
});

const HEADER = Object.keys(row('', '', ''));
/** The row's cells in header order, as the CSV parser gives them. */
const cells = (r: Record<string, string>) => HEADER.map((column) => r[column] ?? '');

function assembler(): OrderAssembler {
  const a = new OrderAssembler(options);
  a.header(HEADER);
  return a;
}

function assemble(rows: Record<string, string>[]): { orders: OrderEvent[]; a: OrderAssembler } {
  const a = assembler();
  const orders: OrderEvent[] = [];
  for (const r of rows) {
    const o = a.push(cells(r));
    if (o) orders.push(o);
  }
  const last = a.finish();
  if (last) orders.push(last);
  return { orders, a };
}

describe('OrderAssembler', () => {
  it("turns an invoice's lines into one completed order", () => {
    const { orders } = assemble([row('536365', '6', '2.55', '17850.0'), row('536365', '8', '3.39'), row('536365', '2', '7.65')]);
    expect(orders).toEqual([
      {
        specversion: '1.0',
        id: 'import-536365',
        source: 'urn:test',
        type: 'commerce.order.completed',
        time: '2010-12-01T08:26:00Z',
        subject: '17850',
        data: { orderId: '536365', amountMinor: 1530 + 2712 + 1530, currency: 'GBP', itemCount: 16, channel: 'online', storeId: null },
      },
    ]);
    expect(OrderEventSchema.safeParse(orders[0]).success).toBe(true);
  });

  it('skips and counts each kind of bad row, and every row is accounted for', () => {
    const { orders, a } = assemble([
      row('', '1', '1.00'), // bad_order_id
      row('536366', '1', '1.00', ''), // no_customer
      row('536367', '6', '1.10'),
      row('536367', '0', '1.10'), // bad_quantity
      row('536367', '-2', '1.10'), // bad_quantity
      row('536367', '1', 'n/a'), // bad_price
      row('536367', '1', '1.00', '17850', '2/30/2011 8:00'), // bad_date
      row('536367', '1', '1.00', '17850', '12/31/1999 23:59'), // event_time_too_old
      row('536367', '1', '1.00', '17850', '6/2/2026 0:01'), // event_time_future (a day and a minute after `now`)
      row('536367', '1', '1.00', '17850', '1/1/9999 0:00'), // event_time_future
      row('536367', '1', '1.00', '13047'), // customer_mismatch
      row('C536368', '-1', '4.25'), // credit_note
      row('536369', '1', '1.00'),
      row('536367', '1', '1.00'), // non_contiguous
      row('536370', '200000', '1.00'), // order_out_of_range (itemCount > 100,000)
    ]);
    expect(orders.map((o) => [o.data.orderId, o.data.amountMinor, o.data.itemCount])).toEqual([
      ['536367', 660, 6],
      ['536369', 100, 1],
    ]);
    expect(a.counts).toEqual({
      rows: 15,
      orders: 2,
      rowsInOrders: 2,
      skipped: {
        malformed_row: 0,
        bad_order_id: 1,
        non_contiguous: 1,
        no_customer: 1,
        credit_note: 1,
        bad_quantity: 2,
        bad_price: 1,
        bad_date: 1,
        event_time_too_old: 1,
        event_time_future: 2,
        customer_mismatch: 1,
        order_out_of_range: 1,
      },
    });
    expect(a.counts.rowsInOrders + skippedTotal(a.counts)).toBe(a.counts.rows);
  });

  it('rounds the order total once, not per line', () => {
    // 3 x 0.333 = 0.999 -> 1.00 (per-line rounding would give 0.99)
    const { orders } = assemble([row('1', '1', '0.333'), row('1', '1', '0.333'), row('1', '1', '0.333')]);
    expect(orders[0]?.data.amountMinor).toBe(100);
  });

  it('gives the same event ids on a re-import', () => {
    const rows = [row('536365', '6', '2.55'), row('536366', '1', '1.00', '13047')];
    expect(assemble(rows).orders.map((o) => o.id)).toEqual(assemble(rows).orders.map((o) => o.id));
    expect(assemble(rows).orders.map((o) => o.id)).toEqual(['import-536365', 'import-536366']);
  });

  it('remembers a bounded number of order ids', () => {
    const a = assembler();
    for (let i = 0; i <= RECENT_ORDERS + 1; i++) a.push(cells(row(String(i), '1', '1.00')));
    a.finish();
    // Order 0 is forgotten: its reappearance is not recognised (its event id would still be the same).
    expect(a.push(cells(row('0', '1', '1.00')))).toBeNull();
    expect(a.counts.skipped.non_contiguous).toBe(0);
    a.push(cells(row(String(RECENT_ORDERS), '1', '1.00')));
    expect(a.counts.skipped.non_contiguous).toBe(1);
  });

  it('tells decimal order ids from other ids that look alike', () => {
    // Decimal ids are remembered as numbers: '0536365' and ' 536365' must stay other orders than 536365.
    const { orders, a } = assemble([row('536365', '1', '1.00'), row('0536365', '1', '1.00'), row('536365.0', '1', '1.00'), row('536365', '1', '1.00')]);
    expect(orders.map((o) => o.data.orderId)).toEqual(['536365', '0536365', '536365.0']);
    expect(a.counts.skipped.non_contiguous).toBe(1);
  });

  it('reads columns by header name, in any order, and parses the cells an invoice repeats once per value', () => {
    const a = new OrderAssembler(options);
    a.header([' CustomerID', 'InvoiceDate', 'Quantity ', 'UnitPrice', 'InvoiceNo']);
    const orders = [
      a.push(['17850.0', '12/1/2010 8:26', '2', '1.50', '536365']),
      a.push(['17850.0', '12/1/2010 8:26', '1', '1.00', '536365']),
      a.push(['13047', '12/1/2010 8:34', '3', '2.00', '536366']),
      // A short row: the missing cells are empty (no_customer counts it).
      a.push(['']),
      a.finish(),
    ].filter((o) => o !== null);
    expect(orders.map((o) => [o.data.orderId, o.subject, o.time, o.data.amountMinor, o.data.itemCount])).toEqual([
      ['536365', '17850', '2010-12-01T08:26:00Z', 400, 3],
      ['536366', '13047', '2010-12-01T08:34:00Z', 600, 3],
    ]);
    expect(a.counts.skipped.bad_order_id).toBe(1);
  });

  it('refuses a header without the mapped columns', () => {
    expect(() => new OrderAssembler(options).header(['InvoiceNo', 'Quantity'])).toThrow(
      /^the CSV header lacks "CustomerID" \(customerId\), "InvoiceDate" \(time\), "UnitPrice" \(unitPrice\)/,
    );
  });
});
