/**
 * Turns CSV rows (one per order line) into completed-order events (and, with credit notes in
 * refund mode, refunded-order events), in bounded memory. Every row ends up in a produced
 * order, in a produced refund, or counted under one skip reason. Rows are arrays of cells (the
 * header row names the columns), read by index: no object per row, and the cells an invoice's
 * lines share (date, customer) are parsed once per run of equal values.
 *
 * Interleaved invoices: an export usually lists an invoice's lines together, but not always (a
 * credit note's lines in the middle of an invoice). The assembler keeps a bounded set of open
 * invoices keyed by invoice number; a line joins its invoice whatever came between. An invoice
 * is complete, and emitted, when no line of it came for `idleRows` rows, or, when a new invoice
 * finds the set full (`maxOpenInvoices`), the least recently touched one is evicted (counted).
 * At most one invoice completes per row, so push() returns at most one invoice's events.
 *
 * Decisions (docs in packages/cli/README.md):
 * - credit notes (order ids with the preset's credit prefix, 'C' for retail) are skipped and
 *   counted by default: the export does not say which invoice a credit note returns. With
 *   `creditNotes: 'refund'` each credit note line is matched to its customer's latest order
 *   at or before the note, among those already emitted and remembered (the last
 *   REMEMBERED_ORDERS_PER_CUSTOMER of each customer, for the last REMEMBERED_CUSTOMERS
 *   customers), holding the same product; each matched order gets a refunded event carrying
 *   its cumulative refunded amount (the contract's meaning); unmatched lines are skipped as
 *   `credit_note_unmatched`;
 * - a malformed row (csv-parse reports an error, or a quote left open swallowed line breaks
 *   into a mapped cell) is skipped and counted as `malformed_row`, once per physical line it
 *   spans, and the import goes on: one bad quote must not abort a file of millions of rows;
 * - an order dated outside the event-time bounds (CRM_MIN_EVENT_TIME, CRM_MAX_FUTURE_SKEW_MS
 *   ahead of the import's start) is skipped as the segmenter would dead-letter it;
 * - an order id that reappears after its order was emitted (idle or evicted) is skipped and
 *   counted as `non_contiguous`: re-producing the order would carry the same event id and be
 *   ignored as a duplicate anyway. Detection remembers the last RECENT_ORDERS ids (bounded
 *   memory); older reappearances are still never double-counted, by the same event id.
 */
import { type EventTimeBounds, eventTimeRefusal, MAX_AMOUNT_MINOR, MAX_ID_LENGTH, type OrderEvent } from '@crm/contracts';
import { checkHeader, type ColumnMapping, type MappableField, type ResolvedMapping } from './mapping.ts';
import { type DateFormat, isoSeconds, microsToMinor, normalizeId, parseDate, parseMicros, parseQuantity } from './values.ts';

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
  'credit_note_unmatched',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Reasons that say a cell could not be read: many rows skipped for one of them means the file was read wrongly (a wrong mapping or date format). */
export const PARSE_REASONS = ['malformed_row', 'bad_order_id', 'bad_quantity', 'bad_price', 'bad_date'] as const satisfies readonly SkipReason[];

/** How credit notes are imported: skipped and counted, or as refunds of the orders they return. */
export const CREDIT_NOTE_MODES = ['skip', 'refund'] as const;
export type CreditNoteMode = (typeof CREDIT_NOTE_MODES)[number];

/** Most order ids remembered to detect non-contiguous lines (a few MB at most). */
export const RECENT_ORDERS = 100_000;
/** Default bound of the open-invoice set: far more invoices than a real export interleaves, a few hundred KB. */
export const DEFAULT_MAX_OPEN_INVOICES = 1_000;
/** Default rows without a line of an open invoice after which it is complete (an invoice has at most a few hundred lines). */
export const DEFAULT_IDLE_ROWS = 1_000;
/** Refund mode: orders remembered per customer to match credit notes against. */
export const REMEMBERED_ORDERS_PER_CUSTOMER = 20;
/** Refund mode: customers whose orders are remembered (least recently ordering forgotten first). */
export const REMEMBERED_CUSTOMERS = 100_000;
/** Largest itemCount the contract allows. */
const MAX_ITEMS = 100_000;
/** Longest cell value quoted in a skip's example. */
const MAX_QUOTED = 80;

export interface AssemblerOptions extends ResolvedMapping {
  currency: string;
  /** Decimal places of the currency's minor unit. */
  minorDigits: number;
  channel: string;
  /** CloudEvents source of the produced events. */
  source: string;
  /** Event ids are `<idPrefix>-<orderId>` (refunds `<idPrefix>-<creditNote>-<orderId>`): deterministic, so a re-import is idempotent. */
  idPrefix: string;
  dateFormat: DateFormat;
  /** Rows dated outside these bounds are skipped, as the segmenter would refuse them. */
  eventTimeBounds: EventTimeBounds;
  /** The instant "the future" is measured from (the import's start), ms. */
  now: number;
  /** Most invoices open at once (default DEFAULT_MAX_OPEN_INVOICES). */
  maxOpenInvoices?: number;
  /** Rows without a line of an invoice after which it is complete (default DEFAULT_IDLE_ROWS). */
  idleRows?: number;
  /** default 'skip'. */
  creditNotes?: CreditNoteMode;
}

/** Where a skip reason first applied: the file's line, and the cell (column and value) when one cell is to blame. */
export interface FirstSkip {
  line: number;
  column: string | null;
  value: string | null;
}

export interface ImportCounts {
  /** Data rows read (the header excluded). */
  rows: number;
  /** Orders assembled (produced, or that would be in a dry run). */
  orders: number;
  /** Rows that went into those orders. */
  rowsInOrders: number;
  /** Refunded events (refund mode). */
  refunds: number;
  /** Credit-note rows that went into those refunds. */
  rowsInRefunds: number;
  /** Invoices completed early because the open set was full. */
  evictedInvoices: number;
  skipped: Record<SkipReason, number>;
  /** The first row skipped for each reason that occurred. */
  firstSkipped: Partial<Record<SkipReason, FirstSkip>>;
}

/** A line of a credit note: what it refunds. */
interface CreditLine {
  productId: string;
  micros: number;
  items: number;
}

interface OpenOrder {
  orderId: string;
  /** Credit note (refund mode); its lines are in `credits`. */
  credit: boolean;
  /** null until the order has a valid line. */
  customerId: string | null;
  time: number;
  micros: number;
  items: number;
  rows: number;
  storeId: string | null;
  /** The clock (rows pushed) when a line of it was last read. */
  touched: number;
  /** Refund mode: products of an order's valid lines. */
  products: Set<string> | null;
  /** Refund mode: a credit note's valid lines. */
  credits: CreditLine[] | null;
  /** Neighbours in the open list (null at its ends, and when not open). */
  older: OpenOrder | null;
  newer: OpenOrder | null;
}

/** An emitted order, remembered in refund mode. */
interface RememberedOrder {
  orderId: string;
  time: number;
  storeId: string | null;
  products: Set<string>;
  /** Refunded so far by this import's credit notes, millionths and items. */
  refundedMicros: number;
  refundedItems: number;
}

export class OrderAssembler {
  readonly counts: ImportCounts = {
    rows: 0,
    orders: 0,
    rowsInOrders: 0,
    refunds: 0,
    rowsInRefunds: 0,
    evictedInvoices: 0,
    skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
    firstSkipped: {},
  };
  /** Open invoices by invoice number. */
  private readonly open = new Map<string, OpenOrder>();
  /** The open invoices as a list from the least (`oldest`) to the most recently touched (`newest`): a touch moves one to the end without allocating. */
  private oldest: OpenOrder | null = null;
  private newest: OpenOrder | null = null;
  /**
   * Completed open-invoice objects, reused by the next invoices (at most the open set's bound
   * of them). Measured on 2M rows (packages/cli/README.md, "Interleaved invoices"): with an
   * object allocated per invoice, ~400 KB survived each scavenge (median) and V8's semi-spaces
   * grew to 64 MB; reused, 28-75 KB and 16-32 MB.
   */
  private readonly free: OpenOrder[] = [];
  /** Rows pushed: the clock idleness is measured in. */
  private clock = 0;
  /** Physical lines of the file consumed so far (the header's included). */
  private line = 0;
  /** Ids of emitted orders, oldest first (a Set keeps insertion order); decimal ids as numbers. */
  private readonly recent = new Set<string | number>();
  /** Refund mode: each customer's last orders, oldest first; customers least recently ordering first. */
  private readonly history = new Map<string, RememberedOrder[]>();
  private readonly options: AssemblerOptions;
  private readonly refund: boolean;
  private readonly maxOpen: number;
  private readonly idleRows: number;
  /** The mapping read (productId only in refund mode). */
  private readonly mapping: ColumnMapping;
  /** Cell index per mapped field, from the header row; null until header() was called. */
  private columns: Partial<Record<MappableField, number>> | null = null;
  // The last date and customer cells and what they parsed to: an invoice's lines repeat them.
  private lastDateCell: string | undefined;
  private lastDate: number | null = null;
  private lastCustomerCell: string | undefined;
  private lastCustomer = '';

  constructor(options: AssemblerOptions) {
    this.options = options;
    this.refund = options.creditNotes === 'refund';
    this.maxOpen = options.maxOpenInvoices ?? DEFAULT_MAX_OPEN_INVOICES;
    this.idleRows = options.idleRows ?? DEFAULT_IDLE_ROWS;
    const { productId, ...rest } = options.mapping;
    this.mapping = this.refund ? options.mapping : rest;
    if (this.refund && (options.creditPrefix === null || productId === undefined)) {
      throw new Error('refund mode needs a credit-note prefix and a productId column');
    }
  }

  /** Takes the header row (column names, trimmed here); throws a CliError naming each mapped column it lacks. */
  header(names: readonly string[], lines = 1): void {
    this.line += lines;
    const trimmed = names.map((n) => n.trim());
    checkHeader(this.mapping, trimmed);
    const columns: Partial<Record<MappableField, number>> = {};
    for (const [field, column] of Object.entries(this.mapping) as [MappableField, string | undefined][]) {
      // A repeated column name means its last column, as when rows were objects keyed by name.
      if (column !== undefined) columns[field] = trimmed.lastIndexOf(column);
    }
    this.columns = columns;
  }

  /**
   * Takes one data row (cells in header order) that the parser read from `lines` physical
   * lines; returns the events of the invoice this row completed (another one: idle, or evicted
   * to make room), or null.
   */
  push(cells: readonly (string | undefined)[], lines = 1): OrderEvent[] | null {
    const columns = this.columns;
    if (columns === null) throw new Error('OrderAssembler.push before header()');
    // A mapped cell with a line break: a quote left open swallowed the lines that follow.
    if (lines > 1 && hasLineBreak(cells, columns)) {
      this.malformed(lines);
      return null;
    }
    this.line += lines;
    this.counts.rows++;
    this.clock++;
    const { creditPrefix } = this.options;
    const orderId = cellOf(cells, columns.orderId).trim();
    // Longer ids could not carry the event id prefix within the contract's id length.
    if (orderId === '' || orderId.length > MAX_ID_LENGTH - this.options.idPrefix.length - 1) {
      return this.skipRow('bad_order_id', this.release(false), 'orderId', orderId);
    }
    let order = this.open.get(orderId);
    let done: OrderEvent[] | null;
    if (order === undefined) {
      if (this.recent.has(recentKey(orderId))) return this.skipRow('non_contiguous', this.release(false), 'orderId', orderId);
      done = this.release(true);
      const credit = creditPrefix !== null && orderId.startsWith(creditPrefix);
      order = this.free.pop() ?? blankOrder();
      order.orderId = orderId;
      order.credit = credit;
      order.products = this.refund && !credit ? new Set() : null;
      order.credits = this.refund && credit ? [] : null;
      this.open.set(orderId, order);
      this.append(order);
    } else {
      if (order !== this.newest) {
        this.unlink(order);
        this.append(order);
      }
      done = this.release(false);
    }
    order.touched = this.clock;
    const customerCell = cellOf(cells, columns.customerId);
    const customerId = this.customer(customerCell);
    if (customerId === '' || customerId.length > MAX_ID_LENGTH) return this.skipRow('no_customer', done, 'customerId', customerCell);
    if (order.credit && !this.refund) return this.skipRow('credit_note', done, 'orderId', orderId);
    const quantityCell = cellOf(cells, columns.quantity);
    // A credit note's quantities are negative; it refunds their opposites.
    const signed = columns.quantity === undefined ? null : parseQuantity(quantityCell);
    const quantity = columns.quantity === undefined ? 1 : signed === null ? null : order.credit ? -signed : signed;
    if (quantity === null || quantity <= 0) return this.skipRow('bad_quantity', done, 'quantity', quantityCell);
    let micros: number | null;
    if (columns.amount !== undefined) {
      micros = parseMicros(cellOf(cells, columns.amount));
    } else {
      const unit = parseMicros(cellOf(cells, columns.unitPrice));
      micros = unit === null ? null : unit * quantity;
    }
    if (micros === null || !Number.isSafeInteger(micros)) {
      const field = columns.amount !== undefined ? 'amount' : 'unitPrice';
      return this.skipRow('bad_price', done, field, cellOf(cells, columns[field]));
    }
    const dateCell = cellOf(cells, columns.time);
    const time = this.date(dateCell);
    if (time === null) return this.skipRow('bad_date', done, 'time', dateCell);
    const refusal = eventTimeRefusal(time, this.options.eventTimeBounds, this.options.now);
    if (refusal !== null) return this.skipRow(refusal, done, 'time', dateCell);
    if (order.customerId === null) {
      order.customerId = customerId;
      order.time = time;
      const store = cellOf(cells, columns.storeId).trim();
      order.storeId = store === '' ? null : store.slice(0, 256);
    } else if (order.customerId !== customerId) {
      return this.skipRow('customer_mismatch', done, 'customerId', customerCell);
    }
    const productId = this.refund ? cellOf(cells, columns.productId).trim() : '';
    if (order.credits !== null) order.credits.push({ productId, micros, items: quantity });
    order.products?.add(productId);
    order.micros += micros;
    order.items += quantity;
    order.rows++;
    return done;
  }

  /** Counts `lines` physical lines the parser could not read as a row (csv-parse's error, or malformed()'s). */
  malformed(lines: number): void {
    this.line += lines;
    this.counts.rows += lines;
    this.counts.skipped.malformed_row += lines;
    this.counts.firstSkipped.malformed_row ??= { line: this.line, column: null, value: null };
  }

  /** Ends the input: returns the events of every invoice still open, least recently touched first. */
  finish(): OrderEvent[] {
    const events: OrderEvent[] = [];
    for (let order = this.oldest; order !== null; order = this.oldest) events.push(...(this.emit(order) ?? []));
    return events;
  }

  /**
   * Completes at most one open invoice before a row is added: the least recently touched, when
   * a new invoice needs room in a full set, or when no line of it came for `idleRows` rows.
   * (Each row touches one invoice, so at most one becomes idle per row: none waits.)
   */
  private release(opening: boolean): OrderEvent[] | null {
    const oldest = this.oldest;
    if (oldest === null) return null;
    if (opening && this.open.size >= this.maxOpen) {
      this.counts.evictedInvoices++;
      return this.emit(oldest);
    }
    return this.clock - oldest.touched > this.idleRows ? this.emit(oldest) : null;
  }

  private append(order: OpenOrder): void {
    order.older = this.newest;
    order.newer = null;
    if (this.newest === null) this.oldest = order;
    else this.newest.newer = order;
    this.newest = order;
  }

  private unlink(order: OpenOrder): void {
    if (order.older === null) this.oldest = order.newer;
    else order.older.newer = order.newer;
    if (order.newer === null) this.newest = order.older;
    else order.newer.older = order.older;
    order.older = null;
    order.newer = null;
  }

  private date(cell: string): number | null {
    if (cell !== this.lastDateCell) {
      this.lastDateCell = cell;
      this.lastDate = parseDate(cell, this.options.dateFormat);
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

  private skipRow(reason: SkipReason, done: OrderEvent[] | null, field: MappableField, value: string): OrderEvent[] | null {
    this.counts.skipped[reason]++;
    this.counts.firstSkipped[reason] ??= { line: this.line, column: this.mapping[field] ?? field, value: value.slice(0, MAX_QUOTED) };
    return done;
  }

  /** Removes `order` from the open set and returns its events (null when none). */
  private emit(order: OpenOrder): OrderEvent[] | null {
    this.open.delete(order.orderId);
    this.unlink(order);
    this.remember(order.orderId);
    const events = this.events(order);
    // Reused, never dropped: see `free`.
    Object.assign(order, blankOrder());
    this.free.push(order);
    return events;
  }

  private events(order: OpenOrder): OrderEvent[] | null {
    if (order.customerId === null) return null;
    if (order.credits !== null) return this.refunds(order, order.customerId);
    const o = this.options;
    const amountMinor = microsToMinor(order.micros, o.minorDigits);
    if (!Number.isSafeInteger(order.micros) || amountMinor > MAX_AMOUNT_MINOR || order.items > MAX_ITEMS) {
      this.counts.skipped.order_out_of_range += order.rows;
      return null;
    }
    this.counts.orders++;
    this.counts.rowsInOrders += order.rows;
    if (order.products !== null) this.rememberOrder(order.customerId, order, order.products);
    return [
      {
        specversion: '1.0',
        id: `${o.idPrefix}-${order.orderId}`,
        source: o.source,
        type: 'commerce.order.completed',
        time: isoSeconds(order.time),
        subject: order.customerId,
        data: { orderId: order.orderId, amountMinor, currency: o.currency, itemCount: order.items, channel: o.channel, storeId: order.storeId },
      },
    ];
  }

  /** A credit note's refunded events: one per order its lines matched, with that order's cumulative refund. */
  private refunds(note: OpenOrder, customerId: string): OrderEvent[] | null {
    const remembered = this.history.get(customerId) ?? [];
    const matched: RememberedOrder[] = [];
    const o = this.options;
    for (const line of note.credits ?? []) {
      let target: RememberedOrder | undefined;
      for (let i = remembered.length - 1; i >= 0; i--) {
        const candidate = remembered[i] as RememberedOrder;
        if (candidate.time <= note.time && candidate.products.has(line.productId) && (target === undefined || candidate.time > target.time)) target = candidate;
      }
      const refundedMinor = target === undefined ? 0 : microsToMinor(target.refundedMicros + line.micros, o.minorDigits);
      // Refund event ids must fit the contract too.
      const id = target === undefined ? '' : `${o.idPrefix}-${note.orderId}-${target.orderId}`;
      if (target === undefined || id.length > MAX_ID_LENGTH || refundedMinor > MAX_AMOUNT_MINOR || target.refundedItems + line.items > MAX_ITEMS) {
        this.counts.skipped.credit_note_unmatched++;
        this.counts.firstSkipped.credit_note_unmatched ??= { line: this.line, column: this.mapping.orderId ?? 'orderId', value: note.orderId };
        continue;
      }
      target.refundedMicros += line.micros;
      target.refundedItems += line.items;
      this.counts.rowsInRefunds++;
      if (!matched.includes(target)) matched.push(target);
    }
    if (matched.length === 0) return null;
    this.counts.refunds += matched.length;
    return matched.map((target) => ({
      specversion: '1.0',
      id: `${o.idPrefix}-${note.orderId}-${target.orderId}`,
      source: o.source,
      type: 'commerce.order.refunded',
      time: isoSeconds(note.time),
      subject: customerId,
      data: {
        orderId: target.orderId,
        amountMinor: microsToMinor(target.refundedMicros, o.minorDigits),
        currency: o.currency,
        itemCount: target.refundedItems,
        channel: o.channel,
        storeId: target.storeId,
      },
    }));
  }

  private rememberOrder(customerId: string, order: OpenOrder, products: Set<string>): void {
    const orders = this.history.get(customerId) ?? [];
    // Re-inserted: the customers who ordered least recently are forgotten first.
    this.history.delete(customerId);
    this.history.set(customerId, orders);
    orders.push({ orderId: order.orderId, time: order.time, storeId: order.storeId, products, refundedMicros: 0, refundedItems: 0 });
    if (orders.length > REMEMBERED_ORDERS_PER_CUSTOMER) orders.shift();
    if (this.history.size > REMEMBERED_CUSTOMERS) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
    }
  }

  private remember(orderId: string): void {
    this.recent.add(recentKey(orderId));
    if (this.recent.size > RECENT_ORDERS) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}

/** An open-invoice object with no invoice in it (the shape every OpenOrder keeps). */
function blankOrder(): OpenOrder {
  return {
    orderId: '',
    credit: false,
    customerId: null,
    time: 0,
    micros: 0,
    items: 0,
    rows: 0,
    storeId: null,
    touched: 0,
    products: null,
    credits: null,
    older: null,
    newer: null,
  };
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
export function skippedTotal(counts: Pick<ImportCounts, 'skipped'>): number {
  return SKIP_REASONS.reduce((n, r) => n + counts.skipped[r], 0);
}
