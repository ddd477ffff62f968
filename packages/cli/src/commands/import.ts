/**
 * `crm import orders <file.csv>`: streams a CSV of order lines into completed-order events on
 * the orders topic, in constant memory whatever the file size: rows are parsed as the file is
 * read, orders are produced in batches of BATCH_SIZE, and reading waits while a batch is in
 * flight (one batch is assembled while the previous one is sent).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { encodeOutput, type OrderEvent, TOPICS } from '@crm/contracts';
import { parse } from 'csv-parse';
import type { Producer } from 'kafkajs';
import { connectKafka, kafkaClient, registryClient } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { checkHeader, resolveMapping } from '../csv/mapping.ts';
import { type ImportCounts, OrderAssembler, SKIP_REASONS, skippedTotal } from '../csv/orders.ts';
import { minorDigits } from '../csv/values.ts';
import { CliError, oneLine } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { Progress } from '../progress.ts';

/** Orders per producer send: large enough to amortise a round trip, small enough to keep memory flat. */
export const BATCH_SIZE = 1_000;
/** CloudEvents source of imported events. */
export const IMPORT_SOURCE = 'urn:crm:cli:import';

export interface ImportOptions {
  preset?: string;
  map?: string;
  dryRun?: boolean;
  currency: string;
  channel: string;
  idPrefix: string;
  dayFirst?: boolean;
  json?: boolean;
}

export interface ImportSummary extends ImportCounts {
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
  const resolved = resolveMapping(options.preset, options.map);
  const assembler = new OrderAssembler({
    ...resolved,
    currency,
    minorDigits: minorDigits(currency),
    channel: options.channel,
    source: IMPORT_SOURCE,
    idPrefix: options.idPrefix,
    dayFirst: options.dayFirst ?? false,
  });
  const registry = registryClient(config);
  const topic = config.topics.orders;
  const dryRun = options.dryRun ?? false;

  let producer: Producer | undefined;
  if (!dryRun) {
    producer = kafkaClient(config).producer({ idempotent: true, maxInFlightRequests: 1 });
    const p = producer;
    await connectKafka(config, () => p.connect());
  }
  const started = Date.now();
  const progress = new Progress(io.stderr, size);
  const sender = new BatchSender(async (orders) => {
    if (producer === undefined) return;
    const messages = await Promise.all(orders.map(async (o) => ({ key: o.subject, value: await encodeOutput(TOPICS.orders, o, registry) })));
    await producer.send({ topic, acks: -1, messages });
  });
  const parser = parse({
    bom: true,
    trim: false,
    skip_empty_lines: true,
    relax_column_count: true,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim());
      checkHeader(resolved.mapping, names);
      return names;
    },
  });
  const input = createReadStream(path);
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  try {
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      const order = assembler.push(row);
      if (order !== null) await sender.add(order);
      if ((assembler.counts.rows & 0x3ff) === 0) progress.update(parser.info.bytes, assembler.counts.rows);
    }
    const last = assembler.finish();
    if (last !== null) await sender.add(last);
    await sender.close();
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
    ...assembler.counts,
    elapsedMs,
    rowsPerSecond: Math.round(assembler.counts.rows / Math.max(0.001, elapsedMs / 1000)),
  };
  printSummary(io, summary, options.json ?? false);
  return summary;
}

/** Collects orders into batches and sends one while the next is assembled; add() waits while two are pending. */
class BatchSender {
  private batch: OrderEvent[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private readonly send: (orders: OrderEvent[]) => Promise<void>;

  constructor(send: (orders: OrderEvent[]) => Promise<void>) {
    this.send = send;
  }

  async add(order: OrderEvent): Promise<void> {
    this.batch.push(order);
    if (this.batch.length >= BATCH_SIZE) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    // Backpressure: at most one batch in flight; reading the file waits here.
    await this.inFlight;
    if (this.batch.length === 0) return;
    const orders = this.batch;
    this.batch = [];
    this.inFlight = this.send(orders);
    // A failure is reported by the next await of inFlight; keep it from being "unhandled" meanwhile.
    this.inFlight.catch(() => {});
  }
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
  println(out, `  rows skipped     ${n(skippedTotal(s))}`);
  for (const reason of SKIP_REASONS) if (s.skipped[reason] > 0) println(out, `    ${reason.padEnd(20)}${n(s.skipped[reason]).padStart(10)}`);
  println(out, `  ${(s.elapsedMs / 1000).toFixed(1)} s, ${n(s.rowsPerSecond)} rows/s`);
}
