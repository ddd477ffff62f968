/**
 * Every route of the API, as data: method, URL pattern, auth, parameter and response schemas.
 * The app registers exactly these (app.ts) and the OpenAPI document describes exactly these
 * (openapi.ts), so neither can drift from the other.
 */
import type { z } from 'zod';
import type { Scope } from './tokens.ts';
import {
  Customer,
  CustomerPage,
  CustomerParams,
  CustomerQuery,
  CustomersQuery,
  Health,
  MemberPage,
  MembersParams,
  MembersQuery,
  Readiness,
  SegmentCounts,
} from './schemas.ts';

export type ErrorStatus = 400 | 401 | 403 | 404 | 429 | 503;

export interface RouteSpec {
  operationId: 'getCustomer' | 'listCustomers' | 'getSegmentCounts' | 'getSegmentMembers' | 'healthz' | 'readyz' | 'metrics' | 'openapi';
  method: 'GET';
  /** fastify pattern (`:name` parameters). */
  url: string;
  summary: string;
  description?: string;
  /**
   * The scope a token needs (tokens.ts SCOPES), or null for an operational route served without
   * a token (health, readiness, metrics, this document: nothing about customers).
   */
  scope: Scope | null;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** The 200 body: a schema, or a content type for non-JSON bodies. */
  ok: z.ZodType | { contentType: string; description: string };
  /** Error statuses, answered with the Error body. */
  errors: readonly ErrorStatus[];
  /** Other documented responses with their own body. */
  extra?: readonly { status: number; description: string; schema: z.ZodType }[];
}

export const ROUTES: readonly RouteSpec[] = [
  {
    operationId: 'getCustomer',
    method: 'GET',
    url: '/customers/:id',
    summary: "A customer's state: memberships, derived RFM, loyalty and satisfaction fields, facts",
    description:
      "Read from the customer's partition (Kafka's murmur2 partitioner on the id modulo CRM_PARTITIONS). Derived fields are derived at the instant of the read (`at`: the `at` parameter, else now), scored with the RFM cuts in force; memberships are what the segment indexes hold, as of their last evaluation (`asOf`).",
    scope: 'customers:read',
    params: CustomerParams,
    query: CustomerQuery,
    ok: Customer,
    errors: [400, 401, 403, 404, 429, 503],
  },
  {
    operationId: 'listCustomers',
    method: 'GET',
    url: '/customers',
    summary: 'Every customer (or the members of one segment value), read at one instant, paged',
    description:
      "Pages walk the partitions in turn: HSCAN of each partition's state hash, or with `where` SSCAN of the segment's sets (a member whose stored state has left the segment meanwhile is left out). Every customer present from the first page to the last is returned; customers added meanwhile may or may not be. A page holds at most `limit` customers, none twice; it may hold fewer before the end: keep following `nextCursor` until it is null. Rarely (a hash or set resized between two pages, as new customers arrive) a customer can appear on two pages. Each page reads at its own `at` unless the `at` parameter fixes one: pass the first page's `at` to read every page at the same instant.",
    scope: 'customers:read',
    query: CustomersQuery,
    ok: CustomerPage,
    errors: [400, 401, 403, 429, 503],
  },
  {
    operationId: 'getSegmentCounts',
    method: 'GET',
    url: '/segments',
    summary: 'Member counts of every segment value, summed over all partitions',
    scope: 'segments:read',
    ok: SegmentCounts,
    errors: [401, 403, 429, 503],
  },
  {
    operationId: 'getSegmentMembers',
    method: 'GET',
    url: '/segments/:dimension/:value/members',
    summary: 'Members of one segment value, paged',
    description:
      'Pages walk the partitions in turn with SSCAN. Every member present from the first page to the last is returned; members added or removed meanwhile may or may not be. A page holds at most `limit` members, none twice; it may hold fewer before the end: keep following `nextCursor` until it is null. Rarely (a set resized between two pages) a member can appear on two pages.',
    // Member lists are customer ids: the scope of customer data, not of counts.
    scope: 'customers:read',
    params: MembersParams,
    query: MembersQuery,
    ok: MemberPage,
    errors: [400, 401, 403, 404, 429, 503],
  },
  { operationId: 'healthz', method: 'GET', url: '/healthz', summary: 'Liveness: the process answers', scope: null, ok: Health, errors: [] },
  {
    operationId: 'readyz',
    method: 'GET',
    url: '/readyz',
    summary: 'Readiness: Redis is connected (503 otherwise)',
    scope: null,
    ok: Readiness,
    errors: [],
    extra: [{ status: 503, description: 'Redis is not connected', schema: Readiness }],
  },
  {
    operationId: 'metrics',
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics',
    scope: null,
    ok: { contentType: 'text/plain', description: 'Prometheus text exposition format' },
    errors: [],
  },
  {
    operationId: 'openapi',
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    scope: null,
    ok: { contentType: 'application/json', description: 'OpenAPI 3.1 document' },
    errors: [],
  },
];
