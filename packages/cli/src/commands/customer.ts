/**
 * `crm customer show <id>` and `crm segments`: read-only views of the state in Redis. A
 * customer lives in the partition Kafka's default partitioner gives its id.
 */
import { type CustomerReading, type CustomerView, describe } from '@crm/domain';
import { type AtSource, partitionFor, partitionKeys, segmentCounts } from '@crm/store';
import type { Redis } from 'ioredis';
import { withRedis } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { AT_SOURCE_TEXT, cliReadInstant, readConfig, readRecord, readingRow } from '../reading.ts';
import { formatTable } from '../table.ts';
import { inputPartitions } from './topics.ts';

export interface CustomerReport {
  customerId: string;
  partition: number;
  version: number;
  /** ISO instant the fields are derived at, and where it came from (as the profile API says it). */
  at: string;
  atSource: AtSource;
  /** Which RFM cuts scored the customer. */
  cuts: string;
  memberships: CustomerReading['memberships'];
  /** The rule behind each stored membership, as of the state's last evaluation (evaluatedAt). */
  reasons: CustomerView['reasons'];
  fields: Omit<
    ReturnType<typeof readingRow>,
    'customerId' | 'partition' | 'at' | 'rfmSegment' | 'stage' | 'tier' | 'satisfaction' | 'expectationGap' | 'quadrant' | 'custom'
  >;
}

/**
 * A customer read at `--at` (else now): fields derived at that instant, scored with the cuts
 * in force; memberships as the segment index holds them (not re-derived).
 */
export async function customerShow(
  io: Io,
  config: CliConfig,
  customerId: string,
  options: { partitions?: number; json?: boolean; at?: string },
): Promise<number> {
  const partitions = options.partitions ?? (await inputPartitions(config));
  const partition = partitionFor(customerId, partitions);
  const keys = partitionKeys(config.keyPrefix, partition);
  const { raw, read, instant } = await withRedis(config, async (redis) => ({
    instant: await cliReadInstant(redis, config, options.at),
    raw: await redis.hget(keys.state, customerId),
    read: await readConfig(redis, config),
  }));
  if (raw === null) throw new CliError(`customer ${customerId} not found (partition ${partition} of ${partitions}, key ${keys.state})`);
  const { version, state, reading } = readRecord(customerId, raw, instant.at, read.domain);
  const {
    customerId: _id,
    partition: _p,
    at,
    rfmSegment,
    stage,
    tier,
    satisfaction,
    expectationGap,
    quadrant,
    custom,
    ...fields
  } = readingRow(reading, partition);
  // An instant before the state's asOf reads at the asOf (readCustomer): say so.
  const atSource: AtSource = reading.at === instant.at ? instant.source : 'state';
  const reasons = describe(state, read.domain).reasons;
  const report: CustomerReport = { customerId, partition, version, at, atSource, cuts: read.cuts, memberships: reading.memberships, reasons, fields };
  if (options.json) {
    println(io.stdout, JSON.stringify(report));
    return 0;
  }
  const m = reading.memberships;
  const f = fields;
  const lines: [string, string | number | null][] = [
    ['customer', customerId],
    ['partition', `${partition} of ${partitions} (version ${version})`],
    ['memberships', `as the segment index holds them (evaluated ${f.evaluatedAt})`],
    ['rfm segment', rfmSegment],
    ['stage', stage],
    ['tier', tier],
    ['satisfaction', satisfaction],
    ['expectation gap', expectationGap],
    ['quadrant', quadrant],
    ['custom segments', custom.length === 0 ? '-' : m.custom.join(', ')],
    ['derived fields', `as of ${at} (${AT_SOURCE_TEXT[atSource]})`],
    ['R/F/M scores', `${f.r ?? '-'}/${f.f ?? '-'}/${f.m ?? '-'} (${read.cuts})`],
    ['recency days', f.recencyDays],
    ['frequency', f.frequency],
    ['monetary (minor)', f.monetaryMinor],
    ['lifetime orders', f.lifetimeOrders],
    ['lifetime net (minor)', f.lifetimeNetMinor],
    ['points', f.points],
    ['first purchase', f.firstPurchaseAt],
    ['previous purchase', f.previousPurchaseAt],
    ['last purchase', f.lastPurchaseAt],
    ['tenure days', f.tenureDays],
    ['csat average', f.csatAvg === null ? null : f.csatAvg.toFixed(2)],
    ['nps class', f.npsClass],
    ['open complaints', f.openComplaints],
    ['marketing consent', f.marketingConsent === null ? null : String(f.marketingConsent)],
    ['registered', String(f.registered)],
  ];
  for (const [k, value] of lines) println(io.stdout, `${k.padEnd(21)} ${value ?? '-'}`);
  const why = Object.entries(reasons).map(([d, r]) => `${d}: ${r}`);
  println(io.stdout, `${'reasons'.padEnd(21)} ${why.join('; ')} (the rules at the last evaluation)`);
  return 0;
}

export interface SegmentCount {
  dimension: string;
  value: string;
  count: number;
}

/** Member counts per dimension and value, summed over every partition of the key prefix. */
export async function countSegments(redis: Redis, keyPrefix: string): Promise<SegmentCount[]> {
  const totals = new Map<string, number>();
  // Partitions found by their counts hashes: no need to know (or ask Kafka) the partition count.
  for await (const keys of redis.scanStream({ match: `${keyPrefix}:{*}:counts`, count: 1000 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const partition = Number(/:\{(\d+)\}:counts$/.exec(key)?.[1]);
      if (!Number.isInteger(partition) || key !== partitionKeys(keyPrefix, partition).counts) continue;
      for (const [field, n] of Object.entries(await segmentCounts(redis, partitionKeys(keyPrefix, partition)))) {
        totals.set(field, (totals.get(field) ?? 0) + n);
      }
    }
  }
  return [...totals]
    .map(([field, count]) => {
      const colon = field.indexOf(':');
      return { dimension: field.slice(0, colon), value: field.slice(colon + 1), count };
    })
    .filter((s) => s.count > 0)
    .sort((a, b) => a.dimension.localeCompare(b.dimension) || b.count - a.count || a.value.localeCompare(b.value));
}

export async function segments(io: Io, config: CliConfig, options: { dimension?: string; json?: boolean }): Promise<number> {
  const all = await withRedis(config, (redis) => countSegments(redis, config.keyPrefix));
  const rows = options.dimension === undefined ? all : all.filter((s) => s.dimension === options.dimension);
  if (options.json) {
    println(io.stdout, JSON.stringify(rows));
  } else if (rows.length === 0) {
    println(
      io.stdout,
      `no segment members under key prefix "${config.keyPrefix}"${options.dimension === undefined ? '' : ` in dimension ${options.dimension}`}`,
    );
  } else {
    println(
      io.stdout,
      formatTable(
        ['dimension', 'value', 'customers'],
        rows.map((s) => [s.dimension, s.value, s.count]),
      ),
    );
  }
  return 0;
}
