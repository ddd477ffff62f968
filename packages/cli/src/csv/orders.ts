/**
 * Turns CSV rows (one per order line) into completed-order events, in constant memory: lines
 * of one order are contiguous in the export, so an order is complete when the order id
 * changes. Every row ends up either in a produced order or counted under one skip reason.
 * Rows are arrays of cells (the header row names the columns), read by index: no object per
 * row, and the cells an invoice's lines share (date, customer) are parsed once per invoice.
 *
 * Decisions (docs in packages/cli/README.md):
 * - credit notes (order ids with the preset's credit prefix, 'C' for retail) are skipped and
 *   counted: the export does not say which invoice a credit note returns (C536379 is the
 *   note's own number, not invoice 536379's), and a refund or cancellation of a guessed
 *   order would void or shrink the wrong purchase;
 * - a malformed row (csv-parse reports an error, or a quote left open swallowed line breaks
 *   into a mapped cell) is skipped and counted as `malformed_row`, once per physical line it
 *   spans, and the import goes on: one bad quote must not abort a file of millions of rows;
 * - an order dated outside the event-time bounds (CRM_MIN_EVENT_TIME, CRM_MAX_FUTURE_SKEW_MS
 *   ahead of the import's start) is skipped as the segmenter would dead-letter it;
 * - an order id that reappears after its order was flushed (non-contiguous lines) is skipped
 *   and counted as `non_contiguous`: re-producing the order would carry the same event id and
 *   be ignored as a duplicate anyway. Detection remembers the last RECENT_ORDERS ids (bounded
 *   memory); older reappearances are still never double-counted, by the same event id.
 */
import { type EventTimeBounds, eventTimeRefusal, MAX_AMOUNT_MINOR, MAX_ID_LENGTH, type OrderEvent } from '@crm/contracts';
import { checkHeader, type MappableField, type ResolvedMapping } from './mapping.ts';
import { isoSeconds, microsToMinor, normalizeId, parseDate, parseMicros, parseQuantity } from './values.ts';

/** Why a row is not part of a produced order, in the order they are checked (a row counts under the first that applies). */
export const SKIP_REASONS = [
  'malformed_row',
  'bad_order_id',
  'non_contiguous',
  'no_customer',
  'credit_note',
  'bad_quantity',
  'bad_price',
  'bad_date',
  'event_time_too_old',
  'event_time_future',
  'customer_mismatch',
  'order_out_of_range',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Most order ids remembered to detect non-contiguous lines (a few MB at most). */
export const RECENT_ORDERS = 100_000;
/** Largest itemCount the contract allows. */
const MAX_ITEMS = 100_000;

export interface AssemblerOptions extends ResolvedMapping {
  currency: string;
  /** Decimal places of the currency's minor unit. */
  minorDigits: number;
  channel: string;
  /** CloudEvents source of the produced events. */
  source: string;
  /** Event ids are `<idPrefix>-<orderId>`: deterministic, so a re-import is idempotent. */
  idPrefix: string;
  /** Dates are D/M/YYYY rather than M/D/YYYY. */
  dayFirst: boolean;
  /** Rows dated outside these bounds are skipped, as the segmenter would refuse them. */
  eventTimeBounds: EventTimeBounds;
  /** The instant "the future" is measured from (the import's start), ms. */
  now: number;
}

export interface ImportCounts {
  /** Data rows read (the header excluded). */
  rows: number;
  /** Orders assembled (produced, or that would be in a dry run). */
  orders: number;
  /** Rows that went into those orders. */
  rowsInOrders: number;
  skipped: Record<SkipReason, number>;
}

interface OpenOrder {
  orderId: string;
  /** null until the order has a valid line. */
  customerId: string | null;
  time: number;
  micros: number;
  items: number;
  rows: number;
  storeId: string | null;
}

export class OrderAssembler {
  readonly counts: ImportCounts = {
    rows: 0,
    orders: 0,
    rowsInOrders: 0,
    skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
  };
  private open: OpenOrder | null = null;
  /** Ids of flushed orders, oldest first (a Set keeps insertion order); decimal ids as numbers. */
  private readonly recent = new Set<string | number>();
  private readonly options: AssemblerOptions;
  /** Cell index per mapped field, from the header row; null until header() was called. */
  private columns: Partial<Record<MappableField, number>> | null = null;
  // The last date and customer cells and what they parsed to: an invoice's lines repeat them.
  private lastDateCell: string | undefined;
  private lastDate: number | null = null;
  private lastCustomerCell: string | undefined;
  private lastCustomer = '';

  constructor(options: AssemblerOptions) {
    this.options = options;
  }

  /** Takes the header row (column names, trimmed here); throws a CliError naming each mapped column it lacks. */
  header(names: readonly string[]): void {
    const trimmed = names.map((n) => n.trim());
    checkHeader(this.options.mapping, trimmed);
    const columns: Partial<Record<MappableField, number>> = {};
    for (const [field, column] of Object.entries(this.options.mapping) as [MappableField, string | undefined][]) {
      // A repeated column name means its last column, as when rows were objects keyed by name.
      if (column !== undefined) columns[field] = trimmed.lastIndexOf(column);
    }
    this.columns = columns;
  }

  /**
   * Takes one data row (cells in header order) that the parser read from `lines` physical
   * lines; returns the previous order when this row starts a new one (null if there was none,
   * or it was skipped).
   */
  push(cells: readonly (string | undefined)[], lines = 1): OrderEvent | null {
    const columns = this.columns;
    if (columns === null) throw new Error('OrderAssembler.push before header()');
    // A mapped cell with a line break: a quote left open swallowed the lines that follow.
    if (lines > 1 && hasLineBreak(cells, columns)) {
      this.malformed(lines);
      return null;
    }
    this.counts.rows++;
    const { creditPrefix } = this.options;
    const orderId = cellOf(cells, columns.orderId).trim();
    // Longer ids could not carry the event id prefix within the contract's id length.
    if (orderId === '' || orderId.length > MAX_ID_LENGTH - this.options.idPrefix.length - 1) return this.skipRow('bad_order_id', null);
    let done: OrderEvent | null = null;
    if (this.open?.orderId !== orderId) {
      done = this.flush();
      if (this.recent.has(recentKey(orderId))) return this.skipRow('non_contiguous', done);
      this.open = { orderId, customerId: null, time: 0, micros: 0, items: 0, rows: 0, storeId: null };
    }
    const order = this.open as OpenOrder;
    const customerId = this.customer(cellOf(cells, columns.customerId));
    if (customerId === '' || customerId.length > MAX_ID_LENGTH) return this.skipRow('no_customer', done);
    if (creditPrefix !== null && orderId.startsWith(creditPrefix)) return this.skipRow('credit_note', done);
    const quantity = columns.quantity === undefined ? 1 : parseQuantity(cellOf(cells, columns.quantity));
    if (quantity === null || quantity <= 0) return this.skipRow('bad_quantity', done);
    let micros: number | null;
    if (columns.amount !== undefined) {
      micros = parseMicros(cellOf(cells, columns.amount));
    } else {
      const unit = parseMicros(cellOf(cells, columns.unitPrice));
      micros = unit === null ? null : unit * quantity;
    }
    if (micros === null || !Number.isSafeInteger(micros)) return this.skipRow('bad_price', done);
    const time = this.date(cellOf(cells, columns.time));
    if (time === null) return this.skipRow('bad_date', done);
    const refusal = eventTimeRefusal(time, this.options.eventTimeBounds, this.options.now);
    if (refusal !== null) return this.skipRow(refusal, done);
    if (order.customerId === null) {
      order.customerId = customerId;
      order.time = time;
      const store = cellOf(cells, columns.storeId).trim();
      order.storeId = store === '' ? null : store.slice(0, 256);
    } else if (order.customerId !== customerId) {
      return this.skipRow('customer_mismatch', done);
    }
    order.micros += micros;
    order.items += quantity;
    order.rows++;
    return done;
  }

  /** Counts `lines` physical lines the parser could not read as a row (csv-parse's error, or malformed()'s). */
  malformed(lines: number): void {
    this.counts.rows += lines;
    this.counts.skipped.malformed_row += lines;
  }

  /** Ends the input: returns the last order, if any. */
  finish(): OrderEvent | null {
    return this.flush();
  }

  private date(cell: string): number | null {
    if (cell !== this.lastDateCell) {
      this.lastDateCell = cell;
      this.lastDate = parseDate(cell, this.options.dayFirst);
    }
    return this.lastDate;
  }

  private customer(cell: string): string {
    if (cell !== this.lastCustomerCell) {
      this.lastCustomerCell = cell;
      this.lastCustomer = normalizeId(cell);
    }
    return this.lastCustomer;
  }

  private skipRow(reason: SkipReason, done: OrderEvent | null): OrderEvent | null {
    this.counts.skipped[reason]++;
    return done;
  }

  private flush(): OrderEvent | null {
    const order = this.open;
    this.open = null;
    if (order === null) return null;
    this.remember(order.orderId);
    if (order.customerId === null) return null;
    const o = this.options;
    const amountMinor = microsToMinor(order.micros, o.minorDigits);
    if (!Number.isSafeInteger(order.micros) || amountMinor > MAX_AMOUNT_MINOR || order.items > MAX_ITEMS) {
      this.counts.skipped.order_out_of_range += order.rows;
      return null;
    }
    this.counts.orders++;
    this.counts.rowsInOrders += order.rows;
    return {
      specversion: '1.0',
      id: `${o.idPrefix}-${order.orderId}`,
      source: o.source,
      type: 'commerce.order.completed',
      time: isoSeconds(order.time),
      subject: order.customerId,
      data: { orderId: order.orderId, amountMinor, currency: o.currency, itemCount: order.items, channel: o.channel, storeId: order.storeId },
    };
  }

  private remember(orderId: string): void {
    this.recent.add(recentKey(orderId));
    if (this.recent.size > RECENT_ORDERS) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}

function hasLineBreak(cells: readonly (string | undefined)[], columns: Partial<Record<MappableField, number>>): boolean {
  for (const index of Object.values(columns)) {
    const cell = index === undefined ? undefined : cells[index];
    if (cell !== undefined && (cell.includes('\n') || cell.includes('\r'))) return true;
  }
  return false;
}

/** The cell at `index` ('' when the field is not mapped or the row is short). */
function cellOf(cells: readonly (string | undefined)[], index: number | undefined): string {
  return index === undefined ? '' : (cells[index] ?? '');
}

/** How `recent` holds an order id: a plain decimal (no leading zero, exact as a double) as a number, which takes no string; others as they are. */
function recentKey(orderId: string): string | number {
  return /^[1-9]\d{0,14}$/.test(orderId) ? Number(orderId) : orderId;
}

/** Total rows skipped. */
export function skippedTotal(counts: ImportCounts): number {
  return SKIP_REASONS.reduce((n, r) => n + counts.skipped[r], 0);
}
