/**
 * The API's contract as zod schemas: request parameters (validated on every request) and
 * response bodies (documented in the OpenAPI document, and checked by the tests against
 * real responses). Types are inferred from them.
 */
import { DIMENSIONS, SegmentChangeData, isIsoUtc } from '@crm/contracts';
import { EXPECTATION_GAPS, NPS_CLASSES, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS } from '@crm/domain';
import { z } from 'zod';
import { AT_SOURCES } from './instant.ts';

/** Largest page of segment members. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/** Largest page of customers (each a read: ~1 KB of JSON). */
export const MAX_CUSTOMER_PAGE = 500;

const isoTime = z.iso.datetime();
const count = z.number().int().min(0);

// ------------------------------------------------------------------ requests

export const CustomerParams = z.object({
  id: z.string().min(1).max(128).describe('Customer id (the Kafka key of its events)'),
});

export const MembersParams = z.object({
  dimension: z.enum(DIMENSIONS).describe('Segment dimension'),
  value: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
    .describe("A value of the dimension's vocabulary, or for `custom` the user-defined segment's name"),
});

const Cursor = z.string().min(1).max(1024).optional().describe('`nextCursor` of the previous page; absent for the first page');

export const MembersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE).describe('Most members in the page'),
  cursor: Cursor,
});

const At = z
  .string()
  .refine(isIsoUtc, 'must be an ISO-8601 UTC instant, e.g. 2026-12-03T12:00:00Z')
  .optional()
  .describe(
    "ISO-8601 UTC instant to derive the fields at; absent: now (the wall clock, or with CRM_CLOCK=stream the stream time). An instant before the state's asOf reads at asOf",
  );

export const CustomerQuery = z.object({ at: At });

export const CustomersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_CUSTOMER_PAGE).default(DEFAULT_PAGE).describe('Most customers in the page'),
  cursor: Cursor,
  where: z
    .string()
    .regex(/^[a-z_]{1,32}:[A-Za-z0-9_-]{1,64}$/, 'must be dimension:value, e.g. stage:active or custom:big_spenders')
    .optional()
    .describe("Only the members of one segment value, `<dimension>:<value>` (a value of the dimension's vocabulary; for `custom` a segment's name)"),
  at: At.describe("ISO-8601 UTC instant to derive the fields at; absent: now. Pass the first page's `at` to read every page at one instant"),
});

// ------------------------------------------------------------------ responses

export const ErrorBody = z
  .object({
    error: z.enum(['bad_request', 'unauthorized', 'forbidden', 'not_found', 'rate_limited', 'unavailable', 'internal']).describe('Machine-readable code'),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Memberships = z
  .object({
    rfmSegment: z.enum(RFM_SEGMENTS).nullable(),
    stage: z.enum(STAGES).nullable(),
    tier: z.enum(TIERS).nullable(),
    satisfaction: z.enum(SATISFACTION_LEVELS).nullable(),
    expectationGap: z.enum(EXPECTATION_GAPS).nullable(),
    quadrant: z.enum(QUADRANTS).nullable(),
    custom: z.array(z.string()).describe('User-defined segments the customer is in, sorted'),
  })
  .meta({ id: 'Memberships' });

export const RecentChange = z
  .object({
    id: z.string().describe('Deterministic change id (the CloudEvent id on crm.segment-changes.v1)'),
    time: isoTime,
    ...SegmentChangeData.shape,
  })
  .meta({ id: 'RecentChange' });

const Latest = <T extends z.ZodType>(value: T) => z.object({ value, at: isoTime }).nullable();

const Derived = z
  .object({
    recencyDays: count.nullable(),
    tenureDays: count.nullable(),
    frequency: count.describe('Purchases in the rolling window'),
    monetaryMinor: count.describe('Net spend in the rolling window, minor units'),
    r: z.number().int().min(1).max(5).nullable(),
    f: z.number().int().min(1).max(5).nullable(),
    m: z.number().int().min(1).max(5).nullable(),
    lifetimeOrders: count,
    lifetimeNetMinor: count,
    points: count,
    csatAvg: z.number().nullable().describe('Rolling CSAT average (1-5)'),
    npsClass: z.enum(NPS_CLASSES).nullable(),
    openComplaints: count,
    marketingConsent: z.boolean().nullable(),
    registered: z.boolean(),
    firstPurchaseAt: isoTime.nullable(),
    lastPurchaseAt: isoTime.nullable(),
    previousPurchaseAt: isoTime.nullable(),
  })
  .describe(
    'Everything derived from the facts as of `at`, the instant of the read (docs/segmentation.md, "Reads and their instant"): e.g. recencyDays counts from lastPurchaseAt to `at`. R/F/M scores use the RFM cuts in force (the stored quantile cuts in quantile mode)',
  )
  .meta({ id: 'Derived' });

/** What a read at an instant shows of a customer: the list's items, and the start of the customer resource. */
const ReadFields = {
  customerId: z.string(),
  partition: z.number().int().min(0).describe('Partition of the input topics (and of the Redis keys) holding the customer'),
  version: z.number().int().min(1).describe('State version: grows with every committed change of the customer'),
  at: isoTime.describe('Instant the derived fields hold at'),
  atSource: z
    .enum(AT_SOURCES)
    .describe(
      "Where `at` came from: `query` (the `at` parameter), `wall_clock`, `stream_clock` (CRM_CLOCK=stream: the deployment's stream time), or `state`: the state's asOf, later than the instant asked or, in stream mode, no stream time stored yet",
    ),
  asOf: isoTime.describe('Instant the memberships were last evaluated at by the segmenter (latest event time or timer evaluation)'),
  memberships: Memberships.describe('What the segment indexes hold for the customer (not re-derived at `at`)'),
  derived: Derived,
};

export const CustomerItem = z.object(ReadFields).meta({ id: 'CustomerItem' });
export type CustomerItem = z.infer<typeof CustomerItem>;

export const Customer = z
  .object({
    ...ReadFields,
    reasons: z
      .object({
        rfmSegment: z.string(),
        stage: z.string(),
        tier: z.string(),
        satisfaction: z.string(),
        expectationGap: z.string(),
        quadrant: z.string(),
      })
      .describe('Which rule decided each stored membership, at its evaluation (asOf)'),
    facts: z
      .object({
        registeredAt: isoTime.nullable(),
        seenAt: isoTime.nullable(),
        erasedAt: isoTime.nullable(),
        consent: Latest(z.boolean()),
        nps: Latest(z.number().int().min(0).max(10)),
        pastOrders: z
          .object({ count: count, netMinor: count, firstAt: isoTime, lastAt: isoTime })
          .nullable()
          .describe('Summary of orders older than the retention horizon'),
        orders: z.array(
          z.object({
            key: z.string().describe('Hash of the order id'),
            completedAt: isoTime.nullable(),
            amountMinor: count.nullable(),
            refundedMinor: count.nullable(),
            refundedAt: isoTime.nullable(),
            cancelledAt: isoTime.nullable(),
          }),
        ),
        interactions: z.array(
          z.object({
            key: z.string().describe('Hash of the interaction id'),
            at: isoTime,
            csat: z.number().int().min(1).max(5).nullable(),
            complaint: z.boolean(),
            resolved: z.boolean(),
            caseKey: z.string().nullable(),
          }),
        ),
      })
      .describe('The facts the segmenter keeps about the customer'),
    recentChanges: z
      .array(RecentChange)
      .describe("The customer's latest segment changes, most recently committed first (at most the segmenter's CRM_HISTORY_LENGTH; none after an erasure)"),
  })
  .meta({ id: 'Customer' });
export type Customer = z.infer<typeof Customer>;

const valueCounts = <T extends readonly [string, ...string[]]>(values: T) => z.record(z.enum(values), count);

export const SegmentCounts = z
  .object({
    partitions: z.number().int().min(1),
    dimensions: z.object({
      rfm_segment: valueCounts(RFM_SEGMENTS),
      stage: valueCounts(STAGES),
      tier: valueCounts(TIERS),
      satisfaction: valueCounts(SATISFACTION_LEVELS),
      expectation_gap: valueCounts(EXPECTATION_GAPS),
      quadrant: valueCounts(QUADRANTS),
      custom: z.record(z.string(), count).describe('Configured user-defined segments (and any other found in Redis)'),
    }),
  })
  .meta({ id: 'SegmentCounts' });
export type SegmentCounts = z.infer<typeof SegmentCounts>;

export const MemberPage = z
  .object({
    dimension: z.enum(DIMENSIONS),
    value: z.string(),
    members: z.array(z.string()).describe('Customer ids, at most `limit`, no duplicates within a page'),
    nextCursor: z.string().nullable().describe('Cursor of the next page; null after the last page'),
  })
  .meta({ id: 'MemberPage' });
export type MemberPage = z.infer<typeof MemberPage>;

export const CustomerPage = z
  .object({
    at: isoTime.nullable().describe('Instant the page was read at; null: each customer at its own asOf (stream clock, no stream time stored)'),
    atSource: z.enum(AT_SOURCES).describe('Where `at` came from (each customer says `state` when it read at its later asOf instead)'),
    where: z.string().nullable().describe('The segment filter, `<dimension>:<value>`, or null'),
    customers: z.array(CustomerItem).describe('At most `limit` customers, none twice within a page'),
    nextCursor: z.string().nullable().describe('Cursor of the next page; null after the last page'),
  })
  .meta({ id: 'CustomerPage' });
export type CustomerPage = z.infer<typeof CustomerPage>;

export const Health = z.object({ status: z.string() }).meta({ id: 'Health' });
export const Readiness = z.object({ status: z.enum(['ready', 'not_ready']), redis: z.string() }).meta({ id: 'Readiness' });

/** The schemas named in the OpenAPI document's components (each carries `.meta({ id })` with its key). */
export const COMPONENTS: Record<string, z.ZodType> = {
  Error: ErrorBody,
  Memberships,
  RecentChange,
  Derived,
  Customer,
  CustomerItem,
  CustomerPage,
  SegmentCounts,
  MemberPage,
  Health,
  Readiness,
};
