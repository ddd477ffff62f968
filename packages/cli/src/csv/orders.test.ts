import type { OrderEvent } from '@crm/contracts';
import { OrderEvent as OrderEventSchema } from '@crm/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveMapping } from './mapping.ts';
import { type AssemblerOptions, type ImportCounts, OrderAssembler, RECENT_ORDERS, skippedTotal } from './orders.ts';

const options: AssemblerOptions = {
  ...resolveMapping('retail', undefined),
  currency: 'GBP',
  minorDigits: 2,
  channel: 'online',
  source: 'urn:test',
  idPrefix: 'import',
  dateFormat: 'auto',
  eventTimeBounds: { minEventTime: Date.parse('2000-01-01T00:00:00Z'), maxFutureSkewMs: 86_400_000 },
  now: Date.parse('2026-06-01T00:00:00Z'),
};

const row = (InvoiceNo: string, Quantity: string, UnitPrice: string, CustomerID = '17850', InvoiceDate = '12/1/2010 8:26', StockCode = '85123A') => ({
  InvoiceNo,
  StockCode,
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

function assembler(extra: Partial<AssemblerOptions> = {}): OrderAssembler {
  const a = new OrderAssembler({ ...options, ...extra });
  a.header(HEADER);
  return a;
}

/** Every event the rows give, in the order the assembler emits them. */
function assemble(rows: Record<string, string>[], extra: Partial<AssemblerOptions> = {}): { orders: OrderEvent[]; a: OrderAssembler } {
  const a = assembler(extra);
  const orders: OrderEvent[] = [];
  for (const r of rows) orders.push(...(a.push(cells(r)) ?? []));
  orders.push(...a.finish());
  return { orders, a };
}

/** The counts with every skip reason that did not occur left out. */
function skips(counts: ImportCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(counts.skipped).filter(([, n]) => n > 0));
}

/** The lines of one invoice: `n` lines of 1 x 1.00 + i pence. */
const invoiceLines = (invoice: string, n: number, customer = '17850', date = '12/1/2010 8:26') =>
  Array.from({ length: n }, (_, i) => row(invoice, '1', (1 + i / 100).toFixed(2), customer, date, `P${i}`));
const linesTotal = (n: number) => Array.from({ length: n }, (_, i) => 100 + i).reduce((x, y) => x + y, 0);

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
      row('536367', '1', '1.00'), // joins its open invoice
      row('536370', '200000', '1.00'), // order_out_of_range (itemCount > 100,000)
    ]);
    expect(orders.map((o) => [o.data.orderId, o.data.amountMinor, o.data.itemCount]).sort()).toEqual([
      ['536367', 760, 7],
      ['536369', 100, 1],
    ]);
    expect(a.counts).toMatchObject({
      rows: 15,
      orders: 2,
      rowsInOrders: 3,
      refunds: 0,
      rowsInRefunds: 0,
      evictedInvoices: 0,
      skipped: {
        malformed_row: 0,
        bad_order_id: 1,
        non_contiguous: 0,
        no_customer: 1,
        credit_note: 1,
        bad_quantity: 2,
        bad_price: 1,
        bad_date: 1,
        event_time_too_old: 1,
        event_time_future: 2,
        customer_mismatch: 1,
        order_out_of_range: 1,
        credit_note_unmatched: 0,
      },
    });
    // The first row skipped for each reason, by its line in the file (the header is line 1).
    expect(a.counts.firstSkipped).toMatchObject({
      bad_order_id: { line: 2, column: 'InvoiceNo', value: '' },
      no_customer: { line: 3, column: 'CustomerID', value: '' },
      bad_quantity: { line: 5, column: 'Quantity', value: '0' },
      bad_price: { line: 7, column: 'UnitPrice', value: 'n/a' },
      bad_date: { line: 8, column: 'InvoiceDate', value: '2/30/2011 8:00' },
      customer_mismatch: { line: 12, column: 'CustomerID', value: '13047' },
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
    const a = assembler({ maxOpenInvoices: 1 });
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
    const { orders, a } = assemble([row('536365', '1', '1.00'), row('0536365', '1', '1.00'), row('536365.0', '1', '1.00'), row('536365', '1', '1.00')], {
      maxOpenInvoices: 1,
    });
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
    ].flatMap((o) => o ?? []);
    expect(orders.map((o) => [o.data.orderId, o.subject, o.time, o.data.amountMinor, o.data.itemCount])).toEqual([
      ['536365', '17850', '2010-12-01T08:26:00Z', 400, 3],
      ['536366', '13047', '2010-12-01T08:34:00Z', 600, 3],
    ]);
    expect(a.counts.skipped.bad_order_id).toBe(1);
  });

  it('assembles an invoice whole when a credit note interrupts it (39 lines, a 2-line note after line 4)', () => {
    const invoice = invoiceLines('536520', 39);
    const note = [row('C536521', '-1', '2.10', '14729', '12/1/2010 8:27'), row('C536521', '-2', '0.85', '14729', '12/1/2010 8:27')];
    const { orders, a } = assemble([...invoice.slice(0, 4), ...note, ...invoice.slice(4)]);
    expect(orders.map((o) => [o.data.orderId, o.data.amountMinor, o.data.itemCount])).toEqual([['536520', linesTotal(39), 39]]);
    expect(a.counts).toMatchObject({ rows: 41, orders: 1, rowsInOrders: 39, evictedInvoices: 0 });
    expect(skips(a.counts)).toEqual({ credit_note: 2 });
  });

  it('assembles two invoices whose lines alternate row by row', () => {
    const first = invoiceLines('1', 10, '17850');
    const second = invoiceLines('2', 10, '13047', '12/1/2010 9:00');
    const { orders, a } = assemble(first.flatMap((r, i) => [r, second[i] as Record<string, string>]));
    expect(orders.map((o) => [o.data.orderId, o.subject, o.data.amountMinor, o.data.itemCount]).sort()).toEqual([
      ['1', '17850', linesTotal(10), 10],
      ['2', '13047', linesTotal(10), 10],
    ]);
    expect(skippedTotal(a.counts)).toBe(0);
  });

  it('evicts the least recently touched invoice when the open set is full, counts it, and reports its later lines as non_contiguous', () => {
    const { orders, a } = assemble(
      [row('1', '1', '1.00'), row('2', '1', '1.00'), row('1', '1', '1.00'), row('3', '1', '1.00'), row('2', '1', '1.00'), row('1', '1', '1.00')],
      {
        maxOpenInvoices: 2,
      },
    );
    // 3 evicts 2 (1 was touched since), and 2's next line comes too late.
    expect(orders.map((o) => [o.data.orderId, o.data.itemCount])).toEqual([
      ['2', 1],
      ['3', 1],
      ['1', 3],
    ]);
    expect(a.counts).toMatchObject({ rows: 6, orders: 3, rowsInOrders: 5, evictedInvoices: 1 });
    expect(skips(a.counts)).toEqual({ non_contiguous: 1 });
    expect(a.counts.firstSkipped.non_contiguous).toEqual({ line: 6, column: 'InvoiceNo', value: '2' });
  });

  it('completes an invoice idle for more than --idle-rows rows', () => {
    const a = assembler({ idleRows: 2 });
    expect(a.push(cells(row('1', '1', '1.00')))).toBeNull();
    expect(a.push(cells(row('2', '1', '1.00')))).toBeNull();
    expect(a.push(cells(row('2', '1', '1.00')))).toBeNull();
    expect(a.push(cells(row('2', '1', '1.00')))?.map((o) => o.data.orderId)).toEqual(['1']);
    a.push(cells(row('1', '1', '1.00')));
    expect(a.counts.skipped.non_contiguous).toBe(1);
    expect(a.finish().map((o) => [o.data.orderId, o.data.itemCount])).toEqual([['2', 3]]);
  });

  it('gives the same orders for any interleaving of invoices within the bounds (property)', () => {
    const invoices = fc.array(fc.record({ lines: fc.integer({ min: 1, max: 6 }), customer: fc.constantFrom('17850', '13047', '12583') }), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        invoices.chain((specs) => {
          const rows = specs.flatMap((spec, i) => invoiceLines(String(1000 + i), spec.lines, spec.customer));
          return fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }));
        }),
        ([inOrder, shuffled]) => {
          const byId = (events: OrderEvent[]) => [...events].sort((x, y) => x.id.localeCompare(y.id));
          const expected = assemble(inOrder).orders;
          const got = assemble(shuffled, { maxOpenInvoices: 8, idleRows: 48 });
          expect(byId(got.orders)).toEqual(byId(expected));
          expect(got.a.counts.evictedInvoices).toBe(0);
        },
      ),
    );
  });

  describe('credit notes refunded (--credit-notes refund)', () => {
    const refund = { creditNotes: 'refund' } as const;
    const line = (invoice: string, quantity: string, price: string, stock: string, date: string, customer = '17850') =>
      row(invoice, quantity, price, customer, date, stock);

    it("refunds the customer's latest earlier order holding the product, with the order's cumulative refund", () => {
      const { orders, a } = assemble(
        [
          line('100', '2', '5.00', 'A', '12/1/2010 8:00'),
          line('101', '1', '5.00', 'A', '12/2/2010 8:00'),
          line('101', '4', '1.25', 'B', '12/2/2010 8:00'),
          line('102', '3', '2.00', 'C', '12/3/2010 8:00', '13047'),
          // Both lines go to 101: the latest order before the note holding A, and the only one holding B.
          line('C103', '-1', '5.00', 'A', '12/4/2010 8:00'),
          line('C103', '-2', '1.25', 'B', '12/4/2010 8:00'),
          // A second note on 101: its refund event carries 101's cumulative refund.
          line('C104', '-1', '1.25', 'B', '12/5/2010 8:00'),
          // Nothing of customer 17850 holds D; 13047's C is after this note: unmatched.
          line('C105', '-1', '1.00', 'D', '12/5/2010 8:00'),
          line('C106', '-1', '2.00', 'C', '12/2/2010 8:00', '13047'),
        ],
        { ...refund, maxOpenInvoices: 1 },
      );
      const refunds = orders.filter((o) => o.type === 'commerce.order.refunded');
      expect(refunds).toEqual([
        {
          specversion: '1.0',
          id: 'import-C103-101',
          source: 'urn:test',
          type: 'commerce.order.refunded',
          time: '2010-12-04T08:00:00Z',
          subject: '17850',
          data: { orderId: '101', amountMinor: 750, currency: 'GBP', itemCount: 3, channel: 'online', storeId: null },
        },
        expect.objectContaining({
          id: 'import-C104-101',
          time: '2010-12-05T08:00:00Z',
          data: expect.objectContaining({ orderId: '101', amountMinor: 875, itemCount: 4 }),
        }),
      ]);
      for (const event of refunds) expect(OrderEventSchema.safeParse(event).success).toBe(true);
      expect(a.counts).toMatchObject({ rows: 9, orders: 3, rowsInOrders: 4, refunds: 2, rowsInRefunds: 3 });
      expect(skips(a.counts)).toEqual({ credit_note_unmatched: 2 });
      expect(a.counts.rowsInOrders + a.counts.rowsInRefunds + skippedTotal(a.counts)).toBe(a.counts.rows);
    });

    it('splits a note whose lines return two orders into one refund per order', () => {
      const { orders } = assemble(
        [
          line('100', '1', '3.00', 'A', '12/1/2010 8:00'),
          line('101', '1', '4.00', 'B', '12/2/2010 8:00'),
          line('C102', '-1', '3.00', 'A', '12/3/2010 8:00'),
          line('C102', '-1', '4.00', 'B', '12/3/2010 8:00'),
        ],
        refund,
      );
      expect(orders.filter((o) => o.type === 'commerce.order.refunded').map((o) => [o.id, o.data.amountMinor])).toEqual([
        ['import-C102-100', 300],
        ['import-C102-101', 400],
      ]);
    });

    it('refuses a credit-note line with a positive quantity', () => {
      const { a } = assemble([line('100', '1', '3.00', 'A', '12/1/2010 8:00'), line('C101', '1', '3.00', 'A', '12/2/2010 8:00')], refund);
      expect(skips(a.counts)).toEqual({ bad_quantity: 1 });
    });
  });

  it('refuses a header without the mapped columns', () => {
    expect(() => new OrderAssembler(options).header(['InvoiceNo', 'Quantity'])).toThrow(
      /^the CSV header lacks "CustomerID" \(customerId\), "InvoiceDate" \(time\), "UnitPrice" \(unitPrice\)/,
    );
  });
});
