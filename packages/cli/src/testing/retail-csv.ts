/**
 * A seeded generator of retail exports (InvoiceNo, StockCode, Description, Quantity,
 * InvoiceDate, UnitPrice, CustomerID, Country) with known defects, streamed to a file, and
 * the counts an import must report for it. Used by the import tests and the 500k-row
 * measurement (scripts/measure-import.ts).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '@crm/sample-data';
import type { SkipReason } from '../csv/orders.ts';

export interface RetailCsvOptions {
  rows: number;
  seed: number;
  customers?: number;
  /** Invoices are 1 to this many minutes apart (default 30: a few days of trade per thousand rows). */
  maxGapMinutes?: number;
  /** Share of orders whose last line is written after the next invoice's lines (default 0: every invoice contiguous). */
  interleave?: number;
  /**
   * Credit notes return lines of the latest order before them (its customer, product and price,
   * at most the quantity bought; a note's lines beyond the order's are of other products), as
   * `--credit-notes refund` matches them, instead of random products of a random customer.
   */
  returns?: boolean;
}

/** A line of an order, as a credit note may return it. */
interface SoldLine {
  code: string;
  qty: number;
  price: string;
}

/** An order with a customer, as a later credit note may return it. */
interface SoldOrder {
  customer: string;
  lines: SoldLine[];
}

export interface RetailCsvExpectation {
  rows: number;
  orders: number;
  rowsInOrders: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Sum of the amounts (minor units) of the expected orders. */
  amountMinor: number;
}

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n';
const WORDS = ['WHITE', 'HANGING', 'HEART', 'T-LIGHT', 'HOLDER', 'LANTERN', 'METAL', 'CREAM', 'CUPID', 'HEARTS', 'COAT', 'HANGER', 'SET', 'OF', '6'];

function mdy(t: number): string {
  const d = new Date(t);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** Writes `rows` data rows to `path`; returns what an import of it must count. */
export async function writeRetailCsv(path: string, options: RetailCsvOptions): Promise<RetailCsvExpectation> {
  const rand = mulberry32(options.seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const customers = options.customers ?? 4_000;
  const out = createWriteStream(path);
  const expected: RetailCsvExpectation = { rows: 0, orders: 0, rowsInOrders: 0, skipped: {}, amountMinor: 0 };
  const skip = (r: SkipReason, n = 1) => {
    expected.skipped[r] = (expected.skipped[r] ?? 0) + n;
  };
  const maxGap = options.maxGapMinutes ?? 30;
  const interleave = options.interleave ?? 0;
  /** A line held back to follow the next invoice's. */
  let deferred: string | null = null;
  /** The latest order with a customer: what a credit note returns (`returns`). */
  let lastOrder: SoldOrder | null = null;
  let buffer = HEADER;
  const write = async (s: string) => {
    buffer += s;
    if (buffer.length >= 65_536) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  let invoice = 536_365;
  let t = Date.UTC(2010, 11, 1, 8, 26);
  while (expected.rows < options.rows) {
    invoice++;
    t += 60_000 * (1 + pick(maxGap));
    const lines = Math.min(1 + pick(20), options.rows - expected.rows);
    const kind = rand();
    // 20 % of invoices have no customer, 2 % are credit notes, the rest are orders.
    const noCustomer = kind < 0.2;
    const credit = !noCustomer && kind < 0.22;
    const id = credit ? `C${invoice}` : String(invoice);
    const drawn = noCustomer ? '' : `${12_346 + pick(customers)}.0`;
    const returned: SoldOrder | null = credit && options.returns ? lastOrder : null;
    const customer: string = returned?.customer ?? drawn;
    const sold: SoldLine[] = [];
    let good = 0;
    let cents = 0;
    const written: string[] = [];
    for (let i = 0; i < lines; i++) {
      expected.rows++;
      let qty = credit ? -(1 + pick(12)) : 1 + pick(24);
      const priceCents = 10 + pick(2_000);
      let price = (priceCents / 100).toFixed(2);
      const back = returned?.lines[i];
      if (back !== undefined) {
        qty = -Math.min(-qty, back.qty);
        price = back.price;
      }
      let date = mdy(t);
      const defect = rand();
      if (noCustomer) skip('no_customer');
      else if (credit) skip('credit_note');
      else if (defect < 0.005) {
        qty = -pick(3);
        skip('bad_quantity');
      } else if (defect < 0.008) {
        price = 'n/a';
        skip('bad_price');
      } else if (defect < 0.01) {
        date = '13/45/2010 8:26';
        skip('bad_date');
      }
      const description = `"${WORDS[pick(WORDS.length)]} ${WORDS[pick(WORDS.length)]}, ${WORDS[pick(WORDS.length)]}"`;
      const code = back?.code ?? `${85_000 + pick(1_000)}A`;
      if (!noCustomer && !credit && defect >= 0.01) {
        good++;
        cents += qty * priceCents;
        sold.push({ code, qty, price });
      }
      written.push(`${id},${code},${description},${qty},${date},${price},${customer},United Kingdom\n`);
    }
    // Drawn only when asked, so that a seed without interleaving writes what it always did.
    const hold = interleave > 0 && !noCustomer && !credit && written.length > 1 && rand() < interleave ? written.pop() : undefined;
    for (const line of written) await write(line);
    if (deferred !== null) await write(deferred);
    deferred = hold ?? null;
    if (good > 0) {
      lastOrder = { customer, lines: sold };
      expected.orders++;
      expected.rowsInOrders += good;
      expected.amountMinor += cents;
    }
  }
  if (deferred !== null) buffer += deferred;
  out.write(buffer);
  out.end();
  await once(out, 'close');
  return expected;
}
