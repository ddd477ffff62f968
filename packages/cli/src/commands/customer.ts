/**
 * `crm customer show <id>` and `crm segments`: read-only views of the state in Redis. A
 * customer lives in the partition Kafka's default partitioner gives its id.
 */
import { type CustomerView, decodeState, describe } from '@crm/domain';
import { partitionKeys, segmentCounts, parseStateRecord, partitionFor } from '@crm/store';
import type { Redis } from 'ioredis';
import { withRedis } from '../clients.ts';
import { type CliConfig, domainConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { formatTable } from '../table.ts';
import { inputPartitions } from './topics.ts';

export interface CustomerReport {
  customerId: string;
  partition: number;
  version: number;
  view: CustomerView;
}

export async function customerShow(io: Io, config: CliConfig, customerId: string, options: { partitions?: number; json?: boolean }): Promise<number> {
  const partitions = options.partitions ?? (await inputPartitions(config));
  const partition = partitionFor(customerId, partitions);
  const keys = partitionKeys(config.keyPrefix, partition);
  const raw = await withRedis(config, (redis) => redis.hget(keys.state, customerId));
  if (raw === null) throw new CliError(`customer ${customerId} not found (partition ${partition} of ${partitions}, key ${keys.state})`);
  let version: number;
  let view: CustomerView;
  try {
    const stored = parseStateRecord(raw);
    version = stored.version;
    view = describe(decodeState(stored.state as string), domainConfig(config));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`customer ${customerId}: stored state does not decode: ${(err as Error).message}`);
  }
  const report: CustomerReport = { customerId, partition, version, view };
  if (options.json) {
    println(io.stdout, JSON.stringify(report));
    return 0;
  }
  const time = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
  const v = view;
  const m = v.memberships;
  const lines: [string, string | number | null][] = [
    ['customer', customerId],
    ['partition', `${partition} of ${partitions} (version ${version})`],
    ['as of', time(v.asOf)],
    ['rfm segment', m.rfmSegment],
    ['stage', m.stage],
    ['tier', m.tier],
    ['satisfaction', m.satisfaction],
    ['expectation gap', m.expectationGap],
    ['quadrant', m.quadrant],
    ['custom segments', m.custom.length === 0 ? '-' : m.custom.join(', ')],
    ['R/F/M scores', `${v.r ?? '-'}/${v.f ?? '-'}/${v.m ?? '-'}`],
    ['recency days', v.recencyDays],
    ['frequency', v.frequency],
    ['monetary (minor)', v.monetaryMinor],
    ['lifetime orders', v.lifetimeOrders],
    ['lifetime net (minor)', v.lifetimeNetMinor],
    ['points', v.points],
    ['first purchase', time(v.firstPurchaseAt)],
    ['last purchase', time(v.lastPurchaseAt)],
    ['tenure days', v.tenureDays],
    ['csat average', v.csatAvg === null ? null : v.csatAvg.toFixed(2)],
    ['nps class', v.npsClass],
    ['open complaints', v.openComplaints],
    ['marketing consent', v.marketingConsent === null ? null : String(v.marketingConsent)],
    ['registered', String(v.registered)],
  ];
  for (const [k, value] of lines) println(io.stdout, `${k.padEnd(21)} ${value ?? '-'}`);
  println(
    io.stdout,
    `${'reasons'.padEnd(21)} ${Object.entries(v.reasons)
      .map(([d, r]) => `${d}: ${r}`)
      .join('; ')}`,
  );
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
