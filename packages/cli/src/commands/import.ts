/**
 * `crm import orders <file.csv>`: streams a CSV of order lines into completed-order (and, with
 * --credit-notes refund, refunded-order) events on the orders topic, in bounded memory whatever
 * the file size: rows are parsed as the file is read, invoices are assembled in a bounded open
 * set (../csv/orders.ts), events are produced in batches of BATCH_SIZE, and reading waits while
 * a batch is in flight (one batch is assembled while the previous one is sent). The orders
 * topic is checked first; a run that produced nothing, or could not read most rows, fails.
 *
 * Memory stays flat only if little of what the import allocates lives long: V8 doubles its young
 * generation (16 -> 32 -> 64 MB semi-spaces) each time the bytes that survived scavenges since
 * the last resize exceed its capacity, so per-row or per-order objects that outlive a scavenge
 * make the process grow with the file. Hence: each row goes into the assembler inside the CSV
 * parser (no row objects, no promise per row), each completed order is encoded at once (no batch
 * of events), and a batch is bytes in a reused buffer behind reused message objects
 * (../batches.ts: nothing young waits for the broker). Measured: packages/cli/README.md.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { encodeOutput, type OrderEvent, TOPICS } from '@crm/contracts';
import { type Options as CsvOptions, parse } from 'csv-parse';
import type { Producer } from 'kafkajs';
import { keyedPartitioner } from '@crm/store';
import { BatchSender } from '../batches.ts';
import { connectKafka, kafkaClient, registryClient } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { resolveMapping } from '../csv/mapping.ts';
import { type CreditNoteMode, type ImportCounts, OrderAssembler, PARSE_REASONS, SKIP_REASONS, type SkipReason, skippedTotal } from '../csv/orders.ts';
import { type DateFormat, minorDigits } from '../csv/values.ts';
import { CliError, oneLine } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { Progress } from '../progress.ts';
import { ensureTopic } from './topics.ts';

/**
 * Orders per producer send: amortises the acks=all round trip (rows/s is the same from 250 to
 * 1,000 on the 500k-row measurement); a smaller batch keeps less in flight (peak RSS ~6 MB lower
 * at 250 than at 1,000).
 */
export const BATCH_SIZE = 250;
/** CloudEvents source of imported events. */
export const IMPORT_SOURCE = 'urn:crm:cli:import';
/** Default of --max-skipped-ratio: more than half the rows unreadable for one reason is a misread file, not dirty data. */
export const DEFAULT_MAX_SKIPPED_RATIO = 0.5;

export interface ImportOptions {
  preset?: string;
  map?: string;
  dryRun?: boolean;
  currency: string;
  channel: string;
  idPrefix: string;
  /** Alias of dateFormat 'dmy'. */
  dayFirst?: boolean;
  dateFormat?: DateFormat;
  createTopics?: boolean;
  maxSkippedRatio?: number;
  maxOpenInvoices?: number;
  idleRows?: number;
  creditNotes?: CreditNoteMode;
  json?: boolean;
}

/** What the import prints: the counts, without the first offending cells (customer data: only the failure line quotes one). */
export interface ImportSummary extends Omit<ImportCounts, 'firstSkipped'> {
  file: string;
  bytes: number;
  topic: string;
  format: 'avro' | 'json';
  dryRun: boolean;
  elapsedMs: number;
  rowsPerSecond: number;
}

export async function importOrders(io: Io, config: CliConfig, file: string, options: ImportOptions): Promise<ImportSummary> {
  const path = resolve(io.cwd, file);
  const size = await stat(path).then(
    (s) => s.size,
    (err: unknown) => {
      throw new CliError(`cannot read ${file}: ${oneLine(err)}`);
    },
  );
  const currency = options.currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new CliError(`--currency must be an ISO-4217 code like GBP, got "${options.currency}"`, { exitCode: 2 });
  if (options.channel.trim() === '' || options.channel.length > 256) throw new CliError('--channel must be 1-256 characters', { exitCode: 2 });
  if (options.dayFirst && options.dateFormat !== undefined && options.dateFormat !== 'dmy') {
    throw new CliError(`--day-first means --date-format dmy; it contradicts --date-format ${options.dateFormat}`, { exitCode: 2 });
  }
  const dateFormat = options.dateFormat ?? (options.dayFirst ? 'dmy' : 'auto');
  const maxSkippedRatio = options.maxSkippedRatio ?? DEFAULT_MAX_SKIPPED_RATIO;
  const resolved = resolveMapping(options.preset, options.map);
  const creditNotes = options.creditNotes ?? 'skip';
  if (creditNotes === 'refund' && (resolved.creditPrefix === null || resolved.mapping.productId === undefined)) {
    throw new CliError('--credit-notes refund needs a preset with credit notes (retail) and a productId column (retail: StockCode)', { exitCode: 2 });
  }
  const assembler = new OrderAssembler({
    ...resolved,
    currency,
    minorDigits: minorDigits(currency),
    channel: options.channel,
    source: IMPORT_SOURCE,
    idPrefix: options.idPrefix,
    dateFormat,
    eventTimeBounds: config.eventTimeBounds,
    now: Date.now(),
    maxOpenInvoices: options.maxOpenInvoices,
    idleRows: options.idleRows,
    creditNotes,
  });
  const registry = registryClient(config);
  const topic = config.topics.orders;
  const dryRun = options.dryRun ?? false;
  if (!dryRun) {
    const created = await ensureTopic(config, topic, options.createTopics ?? false);
    if (created.length > 0) println(io.stderr, `created topics ${created.join(', ')}`);
  }

  const producer: Producer | undefined = dryRun
    ? undefined
    : kafkaClient(config).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyedPartitioner });
  if (producer !== undefined) await connectKafka(config, () => producer.connect());
  const started = Date.now();
  const progress = new Progress(io.stderr, size);
  const sender =
    producer === undefined
      ? undefined
      : new BatchSender(BATCH_SIZE, async (messages) => {
          await producer.send({ topic, acks: -1, messages });
        });
  let header = true;
  /** The physical line the previous row (or skipped record) ended on: a row spans the lines after it. */
  let lastLine = 0;
  const linesSince = () => {
    const lines = parser.info.lines - lastLine;
    lastLine = parser.info.lines;
    return Math.max(1, lines);
  };
  const csvOptions: CsvOptions<OrderEvent[], string[]> = {
    bom: true,
    trim: false,
    skip_empty_lines: true,
    relax_column_count: true,
    // A stray quote is data (12" ruler, "x"y), not a reason to stop; what csv-parse still cannot
    // read (a quote left open at the end) is skipped and counted, and the import goes on.
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: () => {
      assembler.malformed(linesSince());
      return undefined;
    },
    // Each row goes into the assembler as it is parsed: the parser yields completed orders, never rows.
    on_record: (cells) => {
      const lines = linesSince();
      if (header) {
        header = false;
        assembler.header(cells, lines);
        return null;
      }
      const events = assembler.push(cells, lines);
      if ((assembler.counts.rows & 0x3ff) === 0) progress.update(parser.info.bytes, assembler.counts.rows);
      return events;
    },
  };
  // csv-parse types on_record as returning rows; here it returns what the parser yields instead.
  const parser = parse(csvOptions as unknown as CsvOptions);
  const input = createReadStream(path);
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  // A dry run only counts; otherwise each event is encoded as soon as its invoice is complete.
  const add = async (events: readonly OrderEvent[]) => {
    if (sender === undefined) return;
    for (const event of events) await sender.add(event.subject, await encodeOutput(TOPICS.orders, event, registry));
  };
  try {
    for await (const events of parser as AsyncIterable<OrderEvent[]>) await add(events);
    await add(assembler.finish());
    await sender?.close();
  } catch (err) {
    input.destroy();
    if (err instanceof CliError) throw err;
    const where = parser.info.lines > 0 ? ` (line ${parser.info.lines})` : '';
    throw new CliError(`import of ${file} failed${where}: ${oneLine(err)}`, { cause: err });
  } finally {
    progress.done();
    await producer?.disconnect();
  }
  const elapsedMs = Date.now() - started;
  const summary: ImportSummary = {
    file: basename(path),
    bytes: size,
    topic,
    format: registry === undefined ? 'json' : 'avro',
    dryRun,
    ...withoutCells(assembler.counts),
    elapsedMs,
    rowsPerSecond: Math.round(assembler.counts.rows / Math.max(0.001, elapsedMs / 1000)),
  };
  printSummary(io, summary, options.json ?? false);
  const failure = importFailure(assembler.counts, maxSkippedRatio, dateFormat);
  if (failure !== null) throw new CliError(failure);
  return summary;
}

/**
 * Why a finished import must not exit 0, or null: no order or refund came out of a file with
 * rows, or more than `maxRatio` of the rows were skipped for one reason that says a cell could
 * not be read (the file was read wrongly, not merely dirty). Quotes the first offending cell:
 * the user's own data, on their terminal (never a service's log).
 */
export function importFailure(counts: ImportCounts, maxRatio: number, dateFormat: DateFormat): string | null {
  if (counts.rows === 0) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  const describe = (reason: SkipReason, what: string): string => {
    const first = counts.firstSkipped[reason];
    const where =
      first === undefined
        ? ''
        : first.column === null
          ? `; first at line ${first.line}`
          : `; first at line ${first.line}, column ${first.column}: ${JSON.stringify(first.value)}`;
    const hint = reason === 'bad_date' ? ` (read with --date-format ${dateFormat}; formats: auto, iso, yyyymmdd, mdy, dmy)` : '';
    return `${what} ${n(counts.skipped[reason])} of ${n(counts.rows)} rows skipped as ${reason}${where}${hint}`;
  };
  if (counts.orders === 0 && counts.refunds === 0) {
    const top = SKIP_REASONS.reduce((a, b) => (counts.skipped[b] > counts.skipped[a] ? b : a));
    return describe(top, 'no order produced:');
  }
  for (const reason of PARSE_REASONS) {
    if (counts.skipped[reason] > maxRatio * counts.rows) return describe(reason, `more than --max-skipped-ratio ${maxRatio} of the rows unreadable:`);
  }
  return null;
}

function withoutCells(counts: ImportCounts): Omit<ImportCounts, 'firstSkipped'> {
  const { firstSkipped: _cells, ...rest } = counts;
  return rest;
}

function printSummary(io: Io, s: ImportSummary, json: boolean): void {
  if (json) {
    println(io.stdout, JSON.stringify(s));
    return;
  }
  const n = (x: number) => x.toLocaleString('en-US');
  const out = io.stdout;
  println(out, `${s.dryRun ? 'dry run (nothing produced): ' : ''}${s.file}, ${(s.bytes / 1_048_576).toFixed(1)} MB`);
  println(out, `  rows read        ${n(s.rows)}`);
  println(out, `  orders           ${n(s.orders)} ${s.dryRun ? 'would be produced' : 'produced'} to ${s.topic} (${s.format})`);
  println(out, `  rows in orders   ${n(s.rowsInOrders)}`);
  if (s.refunds > 0 || s.rowsInRefunds > 0)
    println(out, `  refunds          ${n(s.refunds)} ${s.dryRun ? 'would be produced' : 'produced'} (${n(s.rowsInRefunds)} credit-note rows)`);
  if (s.evictedInvoices > 0) println(out, `  invoices closed early (open set full) ${n(s.evictedInvoices)}`);
  println(out, `  rows skipped     ${n(skippedTotal(s))}`);
  for (const reason of SKIP_REASONS) if (s.skipped[reason] > 0) println(out, `    ${reason.padEnd(20)}${n(s.skipped[reason]).padStart(10)}`);
  println(out, `  ${(s.elapsedMs / 1000).toFixed(1)} s, ${n(s.rowsPerSecond)} rows/s`);
}
