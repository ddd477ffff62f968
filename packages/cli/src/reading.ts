/**
 * What `crm customer show` and `crm customers export` share: the instant a read derives at
 * (`--at`, else the wall clock), the domain configuration in force (the stored quantile cuts
 * when the segmenter keeps some, as it scores with them), and one customer's read as a flat
 * row. Memberships are never re-derived: they are the stored state's, which the segment index
 * mirrors.
 */
import { DIMENSIONS, isIsoUtc } from '@crm/contracts';
import {
  type CustomerReading,
  type CustomerState,
  type DomainConfig,
  decodeState,
  MEMBERSHIP_FIELD,
  readCustomer,
  SEGMENT_NAME,
  VOCABULARIES,
  withRfmCuts,
} from '@crm/domain';
import { type AtSource, type ReadInstant, type SegmentFilter, parseStateRecord, readInstant, readRfmCuts } from '@crm/store';
import type { Redis } from 'ioredis';
import { type CliConfig, domainConfig } from './config.ts';
import { CliError } from './errors.ts';

/** `--at <ISO instant>` (UTC, e.g. 2026-12-03T12:00:00Z) as epoch ms; undefined without one. */
export function parseAt(at: string | undefined): number | undefined {
  if (at === undefined) return undefined;
  if (!isIsoUtc(at)) throw new CliError(`--at must be an ISO-8601 UTC instant, e.g. 2026-12-03T12:00:00Z (got ${JSON.stringify(at)})`, { exitCode: 2 });
  return Date.parse(at);
}

/**
 * The instant reads derive at, as the profile API's (`readInstant` of @crm/store): `--at`, else
 * the deployment's clock (CRM_CLOCK: the wall clock, or the shared stream time; without a stored
 * stream time each customer reads at its own asOf).
 */
export function cliReadInstant(redis: Redis, config: CliConfig, at: string | undefined, now: () => number = Date.now): Promise<ReadInstant> {
  return readInstant(parseAt(at), config.clock, redis, config.keyPrefix, now);
}

/** How a read's instant is printed for a person. */
export const AT_SOURCE_TEXT: Readonly<Record<AtSource, string>> = {
  query: '--at',
  wall_clock: 'wall clock',
  stream_clock: "the deployment's stream clock",
  state: "the customer's last evaluation",
};

/** The domain configuration reads score with, and where its RFM cuts came from. */
export interface ReadConfig {
  domain: DomainConfig;
  /** 'stored quantile cuts (computed <ISO>)' or 'configured cuts'. */
  cuts: string;
}

/** CRM_DOMAIN_CONFIG (or the defaults) with the stored quantile cuts in force, when the segmenter keeps some. */
export async function readConfig(redis: Redis, config: CliConfig): Promise<ReadConfig> {
  const domain = domainConfig(config);
  let stored: Awaited<ReturnType<typeof readRfmCuts>>;
  try {
    stored = await readRfmCuts(redis, config.keyPrefix);
  } catch (err) {
    throw new CliError(`stored RFM cuts: ${(err as Error).message}`, { cause: err });
  }
  if (stored === null) return { domain, cuts: 'configured cuts' };
  return { domain: withRfmCuts(domain, stored.cuts), cuts: `stored quantile cuts (computed ${stored.computedAt || 'at an unknown time'})` };
}

/** Decodes a customer's record (the value of its field in the state hash) and reads it at `at`. */
export function readRecord(
  customerId: string,
  raw: string,
  /** null: at the state's own asOf (stream clock, no stream time stored). */
  at: number | null,
  domain: DomainConfig,
): { version: number; state: CustomerState; reading: CustomerReading } {
  try {
    const stored = parseStateRecord(raw);
    if (stored.state === null) throw new Error('the record holds no state');
    const state = decodeState(stored.state, customerId);
    return { version: stored.version, state, reading: readCustomer(state, at ?? state.asOf, domain) };
  } catch (err) {
    throw new CliError(`customer ${customerId}: stored state does not decode: ${(err as Error).message}`, { cause: err });
  }
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** One customer as a flat row (times ISO-8601; null where unknown): the export's line, in this column order. */
export function readingRow(reading: CustomerReading, partition: number) {
  const m = reading.memberships;
  const f = reading.fields;
  return {
    customerId: reading.customerId,
    partition,
    at: iso(reading.at) as string,
    evaluatedAt: iso(reading.evaluatedAt) as string,
    rfmSegment: m.rfmSegment,
    stage: m.stage,
    tier: m.tier,
    satisfaction: m.satisfaction,
    expectationGap: m.expectationGap,
    quadrant: m.quadrant,
    custom: m.custom,
    r: f.r,
    f: f.f,
    m: f.m,
    recencyDays: f.recencyDays,
    tenureDays: f.tenureDays,
    frequency: f.frequency,
    monetaryMinor: f.monetaryMinor,
    lifetimeOrders: f.lifetimeOrders,
    lifetimeNetMinor: f.lifetimeNetMinor,
    points: f.points,
    firstPurchaseAt: iso(f.firstPurchaseAt),
    previousPurchaseAt: iso(f.previousPurchaseAt),
    lastPurchaseAt: iso(f.lastPurchaseAt),
    csatAvg: f.csatAvg,
    npsClass: f.npsClass,
    openComplaints: f.openComplaints,
    marketingConsent: f.marketingConsent,
    registered: f.registered,
  };
}
export type ReadingRow = ReturnType<typeof readingRow>;

/** The row's fields in order: the CSV header (reading.test.ts checks it against readingRow). */
export const READING_COLUMNS = [
  'customerId',
  'partition',
  'at',
  'evaluatedAt',
  'rfmSegment',
  'stage',
  'tier',
  'satisfaction',
  'expectationGap',
  'quadrant',
  'custom',
  'r',
  'f',
  'm',
  'recencyDays',
  'tenureDays',
  'frequency',
  'monetaryMinor',
  'lifetimeOrders',
  'lifetimeNetMinor',
  'points',
  'firstPurchaseAt',
  'previousPurchaseAt',
  'lastPurchaseAt',
  'csatAvg',
  'npsClass',
  'openComplaints',
  'marketingConsent',
  'registered',
] as const satisfies readonly (keyof ReadingRow)[];

/** A membership filter: the segment index's set `<prefix>:{p}:seg:<dimension>:<value>` of each partition. */
/** One segment's members (`--where dimension=value`). */
export type Where = SegmentFilter;

/**
 * `dimension=value`: a dimension of the change events (rfm_segment, stage, tier, satisfaction,
 * expectation_gap, quadrant, custom) or its membership name (rfmSegment, expectationGap); a
 * value of its vocabulary, matched without regard to case, spaces or dashes ("Champions",
 * "at-risk"); for custom, a segment name.
 */
export function parseWhere(text: string): Where {
  const eq = text.indexOf('=');
  const name = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  // The change events' name (rfm_segment) or the memberships' (rfmSegment: MEMBERSHIP_FIELD).
  const dimension = DIMENSIONS.find((d) => d === name || (d !== 'custom' && MEMBERSHIP_FIELD[d] === name));
  if (eq < 0 || dimension === undefined)
    throw new CliError(`--where must be dimension=value with dimension one of ${DIMENSIONS.join(', ')} (got ${JSON.stringify(text)})`, { exitCode: 2 });
  if (dimension === 'custom') {
    if (!SEGMENT_NAME.test(raw)) throw new CliError(`--where custom=<name>: not a segment name: ${JSON.stringify(raw)}`, { exitCode: 2 });
    return { dimension, value: raw };
  }
  const vocabulary = VOCABULARIES[dimension];
  const wanted = raw.toLowerCase().replace(/[\s-]+/g, '_');
  const value = vocabulary.find((v) => v === wanted);
  if (value === undefined) throw new CliError(`--where ${dimension}: unknown value ${JSON.stringify(raw)} (one of ${vocabulary.join(', ')})`, { exitCode: 2 });
  return { dimension, value };
}
