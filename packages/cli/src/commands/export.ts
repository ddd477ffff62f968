/**
 * `crm customers export`: every customer of every partition, read at one instant, as JSON
 * lines or CSV, in constant memory. A page of customers at a time is read (HSCAN of the
 * partition's state hash, or with --where SSCAN of the segment index's set and HMGET of those
 * records), decoded with the domain codec, read with readCustomer, written, and only then is
 * the next page asked for (the output's backpressure holds the scan).
 *
 * Exactly once: SCAN cursors return every field present for the whole scan at least once, and
 * may repeat one only when the hash or set shrinks while it is scanned (Redis' SCAN guarantee).
 * The state hash only grows (an erasure keeps the customer's tombstone), so each customer is
 * exported once. --where reads the segment index (SSCAN of the value's set in each partition),
 * and keeps a member only when its stored state still holds the membership (it may have moved
 * between the two reads); a set that shrinks a lot during the export (its members leaving)
 * could let Redis repeat one of them. Nothing is remembered across pages: memory is constant.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { holdsMembership } from '@crm/domain';
import { type AtSource, partitionKeys, scanCustomerRecords } from '@crm/store';
import { stringify } from 'csv-stringify/sync';
import type { Redis } from 'ioredis';
import { withRedis } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, type Output, println } from '../io.ts';
import { duration, Progress, type ProgressUnits } from '../progress.ts';
import { AT_SOURCE_TEXT, READING_COLUMNS, type ReadingRow, type Where, cliReadInstant, parseWhere, readConfig, readRecord, readingRow } from '../reading.ts';

/** Fields asked of Redis per HSCAN / SSCAN call: ~250 records (~100 KB) a page. Pages of 50 to 1,000 measured alike (scripts/measure-export.ts); 250 is between. */
const PAGE = 250;

export interface ExportOptions {
  format?: 'jsonl' | 'csv';
  where?: string;
  at?: string;
  out?: string;
}

export interface ExportSummary {
  /** Customers written (all of them unless the output closed early). */
  customers: number;
  /** The reader closed the output (`| head`) before the end: the export stopped there. */
  outputClosed: boolean;
  partitions: number;
  at: string | null;
  atSource: AtSource;
  cuts: string;
  where: string | null;
  seconds: number;
}

/** The partitions that hold customers under the prefix, found by their state hashes (no need to ask Kafka). */
export async function statePartitions(redis: Redis, keyPrefix: string): Promise<number[]> {
  const found = new Set<number>();
  for await (const keys of redis.scanStream({ match: `${keyPrefix}:{*}:state`, count: 1000 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const partition = Number(/:\{(\d+)\}:state$/.exec(key)?.[1]);
      if (Number.isInteger(partition) && key === partitionKeys(keyPrefix, partition).state) found.add(partition);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** Pages of [customer id, record] of one partition: all of its state hash, or the members of one segment. */
async function* pages(redis: Redis, keyPrefix: string, partition: number, where: Where | null): AsyncGenerator<[string, string][]> {
  const keys = partitionKeys(keyPrefix, partition);
  let cursor = '0';
  do {
    const [next, page] = await scanCustomerRecords(redis, keys, where, cursor, PAGE);
    cursor = next;
    if (page.length > 0) yield page;
  } while (cursor !== '0');
}

/** How many customers the export will read: HLEN of each state hash, or SCARD of each segment set. */
async function total(redis: Redis, keyPrefix: string, partitions: number[], where: Where | null): Promise<number> {
  let n = 0;
  for (const p of partitions) {
    const keys = partitionKeys(keyPrefix, p);
    n += where === null ? await redis.hlen(keys.state) : await redis.scard(keys.members(where.dimension, where.value));
  }
  return n;
}

function csvLines(rows: readonly ReadingRow[], header: boolean): string {
  // Custom segments joined by ';' (names never hold one); null is an empty cell.
  const cells = rows.map((r) => READING_COLUMNS.map((c) => (c === 'custom' ? r.custom.join(';') : r[c])));
  return stringify(cells, { header, columns: header ? [...READING_COLUMNS] : undefined, cast: { boolean: (b) => String(b) } });
}

/** Where the lines go: the file of --out, else stdout; each write waits for the output to drain. */
interface Sink {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
  /** The reader went away (a closed pipe: `| head`): stop, quietly, as Unix tools do. */
  closed(): boolean;
}

function fileSink(path: string): Sink {
  const stream: WriteStream = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => stream.once('error', (err) => reject(new CliError(`--out ${path}: ${err.message}`, { cause: err }))));
  failed.catch(() => {});
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), failed]);
    },
    async close() {
      stream.end();
      await Promise.race([once(stream, 'finish'), failed]);
    },
    closed: () => false,
  };
}

function outputSink(out: Output): Sink {
  type Listen = (event: string, fn: (err?: NodeJS.ErrnoException) => void) => unknown;
  const stream = out as Output & { once?: Listen; on?: Listen };
  let closed = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  stream.on?.('error', (err) => {
    if (err?.code === 'EPIPE') closed = true;
    else failure = new CliError(`stdout: ${err?.message}`, { cause: err });
    wake?.();
  });
  return {
    async write(chunk) {
      if (failure !== null) throw failure;
      if (closed) return;
      // process.stdout says false when its buffer is full: wait for it (a slow pipe holds the scan), or for its end.
      if (out.write(chunk) === false && stream.once !== undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          stream.once?.('drain', () => resolve());
        });
        wake = null;
      }
      if (failure !== null) throw failure;
    },
    async close() {},
    closed: () => closed,
  };
}

/** The bar counts customers of the expected total. */
const CUSTOMERS: ProgressUnits = {
  amount: (done, all) => `${done.toLocaleString('en-US')}/${all.toLocaleString('en-US')} customers`,
  noun: 'customers',
};

export async function customersExport(io: Io, config: CliConfig, options: ExportOptions): Promise<ExportSummary> {
  const format = options.format ?? 'jsonl';
  const where = options.where === undefined ? null : parseWhere(options.where);
  const started = Date.now();
  return withRedis(config, async (redis) => {
    const instant = await cliReadInstant(redis, config, options.at);
    const read = await readConfig(redis, config);
    const partitions = await statePartitions(redis, config.keyPrefix);
    const progress = new Progress(io.stderr, await total(redis, config.keyPrefix, partitions, where), Date.now, CUSTOMERS);
    const sink = options.out === undefined ? outputSink(io.stdout) : fileSink(resolve(io.cwd, options.out));
    let customers = 0;
    let header = format === 'csv';
    try {
      scan: for (const p of partitions) {
        for await (const page of pages(redis, config.keyPrefix, p, where)) {
          if (sink.closed()) break scan;
          const rows: ReadingRow[] = [];
          for (const [id, raw] of page) {
            const { reading } = readRecord(id, raw, instant.at, read.domain);
            // The index's set and the state are written by one script: a member whose state moved since the SSCAN is left out.
            if (where === null || holdsMembership(reading.memberships, where.dimension, where.value)) rows.push(readingRow(reading, p));
          }
          await sink.write(format === 'csv' ? csvLines(rows, header) : `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
          header = false;
          customers += rows.length;
          progress.update(customers, customers);
        }
      }
      // A CSV with no customer still has its header.
      if (header) await sink.write(csvLines([], true));
    } finally {
      progress.done();
      await sink.close();
    }
    return {
      customers,
      outputClosed: sink.closed(),
      partitions: partitions.length,
      // null: each customer at its own asOf (stream clock, no stream time stored); every line says its own.
      at: instant.at === null ? null : new Date(instant.at).toISOString(),
      atSource: instant.source,
      cuts: read.cuts,
      where: where === null ? null : `${where.dimension}=${where.value}`,
      seconds: (Date.now() - started) / 1000,
    };
  });
}

/** The command: export, then the summary on stderr (stdout may carry the data). */
export async function customersExportCommand(io: Io, config: CliConfig, options: ExportOptions & { json?: boolean }): Promise<number> {
  const summary = await customersExport(io, config, options);
  if (options.json) println(io.stderr, JSON.stringify(summary));
  else
    println(
      io.stderr,
      `${summary.outputClosed ? 'output closed: stopped after' : 'exported'} ${summary.customers.toLocaleString('en-US')} customer(s) from ${summary.partitions} partition(s)` +
        `${summary.where === null ? '' : ` in ${summary.where} (the segment index)`}${options.out === undefined ? '' : ` to ${options.out}`}` +
        ` in ${duration(summary.seconds)}; derived fields as of ${summary.at ?? "each customer's last evaluation"} (${AT_SOURCE_TEXT[summary.atSource]}), scored with ${summary.cuts};` +
        ' memberships as the segment index holds them',
    );
  return 0;
}
