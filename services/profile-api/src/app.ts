/**
 * The HTTP app (fastify): bearer-token auth with scopes and a per-token rate limit, parameter
 * validation with zod, the routes of routes.ts, JSON errors, request metrics and one log line
 * per response. HTTPS when the configuration holds a certificate. Built without listening, so
 * tests drive it with `inject`.
 *
 * Every request to a route that needs a token goes through, in order: the token (401 when
 * missing or unknown), the token's rate limit (429 with Retry-After; every authenticated
 * request counts, forbidden ones too), the route's scope (403). Each refusal is counted in
 * crm_api_requests_denied_total by reason and token name.
 */
import { DIMENSIONS, type Dimension } from '@crm/contracts';
import { type DomainConfig, VOCABULARIES, describe, withRfmCuts } from '@crm/domain';
import { readRfmCuts } from '@crm/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ProfileApiConfig } from './config.ts';
import { CursorError, decodeCursor, encodeCursor } from './cursor.ts';
import { ApiError } from './errors.ts';
import { errorSummary } from './logging.ts';
import { recentChanges } from './history.ts';
import type { Metrics } from './metrics.ts';
import { guardMetrics } from './metrics-auth.ts';
import { openApiDocument } from './openapi.ts';
import { type ReadInstant, readAt, readInstant } from '@crm/store';
import { type Where, readCustomerPage, readMemberPage, readSegmentCounts, readStoredCustomer, splitCountField } from './reads.ts';
import { RateLimiter } from './ratelimit.ts';
import { ROUTES, type RouteSpec } from './routes.ts';
import {
  type CustomerPage,
  CustomerParams,
  CustomerQuery,
  CustomersQuery,
  type MemberPage,
  MembersParams,
  MembersQuery,
  type SegmentCounts,
} from './schemas.ts';
import { bearerToken } from '@crm/service-kit';
import { type Scope, TokenSet } from './tokens.ts';
import { customerItem, customerView } from './views.ts';

export interface AppDeps {
  config: ProfileApiConfig;
  redis: Redis;
  log: Logger;
  metrics: Metrics;
}

/** Customer ids are at most 128 characters, percent-encoding can triple that. */
const MAX_PARAM_LENGTH = 400;

function parse<T extends z.ZodType>(schema: T, data: unknown, where: 'path' | 'query'): z.output<T> {
  const r = schema.safeParse(data);
  if (!r.success)
    throw new ApiError(
      'bad_request',
      `invalid ${where} parameter${r.error.issues.length > 1 ? 's' : ''}: ${r.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      r.error.issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message })),
    );
  return r.data;
}

/** A cursor of the walk `walk` (undefined: segment members), or a 400 naming the cursor parameter. */
function cursorAt(cursor: string | undefined, partitions: number, walk?: string): ReturnType<typeof decodeCursor> | undefined {
  try {
    return cursor === undefined ? undefined : decodeCursor(cursor, partitions, walk);
  } catch (err) {
    if (err instanceof CursorError) throw new ApiError('bad_request', err.message, [{ path: 'query.cursor', message: err.message }]);
    throw err;
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { config, redis, metrics } = deps;
  const log = deps.log.child({ module: 'http' });
  const tokens = new TokenSet(config.tokens);
  const limiter = new RateLimiter(config.tokens, config.rateLimit);
  /** Route pattern → the scope it needs (null: served without a token). Unmatched URLs need a token, no scope. */
  const scopes = new Map<string, Scope | null>(ROUTES.map((r) => [r.url, r.scope]));
  const openapi = openApiDocument();
  const { prefix, partitions } = { prefix: config.keyPrefix, partitions: config.partitions };

  // fastify's type follows `https`; the routes and hooks are the same either way.
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per response is written in onResponse, with the route pattern instead of the URL.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    https: config.tls,
  }) as unknown as FastifyInstance;

  // Zero series for every token and reason, so a rate() over them is defined from the start.
  metrics.denied.inc({ reason: 'unauthenticated', token: '' }, 0);
  for (const t of config.tokens) for (const reason of ['forbidden', 'rate_limited']) metrics.denied.inc({ reason, token: t.name }, 0);

  const deny = (reason: 'unauthenticated' | 'forbidden' | 'rate_limited', token: string, error: ApiError): never => {
    metrics.denied.inc({ reason, token });
    throw error;
  };

  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    const scope = url === undefined ? undefined : scopes.get(url);
    if (scope === null) return;
    const secret = bearerToken(request.headers.authorization);
    if (secret === null) return deny('unauthenticated', '', new ApiError('unauthorized', 'missing bearer token: send Authorization: Bearer <token>'));
    const token = tokens.verify(secret);
    if (token === null) return deny('unauthenticated', '', new ApiError('unauthorized', 'unknown bearer token'));
    const wait = limiter.take(token.name);
    if (wait !== null)
      return deny(
        'rate_limited',
        token.name,
        new ApiError('rate_limited', `token ${token.name} is over its rate limit: retry in ${wait} s`, undefined, { 'retry-after': String(wait) }),
      );
    if (scope !== undefined && !token.scopes.includes(scope))
      return deny('forbidden', token.name, new ApiError('forbidden', `token ${token.name} lacks the scope ${scope} this route needs`));
  });

  guardMetrics(app, config.metricsToken);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
    log.info({ reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (redis.status !== 'ready') e = new ApiError('unavailable', 'Redis is unavailable: retry later');
    else {
      const status = (err as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) e = new ApiError('bad_request', (err as Error).message);
      else {
        // Never `err` itself: messages and properties of errors from stored data quote it
        // (a corrupt record's text holds the customer id, ioredis errors their command's arguments).
        log.error({ error: errorSummary(err), reqId: request.id, route: request.routeOptions.url }, 'request failed');
        e = new ApiError('internal', 'internal error');
      }
    }
    if (e.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
    reply.headers(e.headers);
    return reply.code(e.status).send(e.body());
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send(new ApiError('not_found', 'no such route').body()));

  /** Why `value` is not a segment of `dimension` (`unknown`: no such user-defined segment), or null when it is one. */
  const segmentValueError = (dimension: Dimension, value: string): { unknown: boolean; message: string } | null => {
    if (dimension === 'custom')
      return config.domain.segments.some((s) => s.name === value) ? null : { unknown: true, message: `no user-defined segment named ${value}` };
    return VOCABULARIES[dimension].includes(value)
      ? null
      : { unknown: false, message: `${value} is not a value of ${dimension}: one of ${VOCABULARIES[dimension].join(', ')}` };
  };

  /** What a read needs besides the state: the domain configuration with the RFM cuts in force, and the instant (`?at=`, else the clock). */
  const readContext = async (at: string | undefined): Promise<{ domain: DomainConfig; instant: ReadInstant }> => {
    const [cuts, instant] = await Promise.all([
      readRfmCuts(redis, prefix),
      readInstant(at === undefined ? undefined : Date.parse(at), config.clock, redis, prefix),
    ]);
    return { domain: cuts === null ? config.domain : withRfmCuts(config.domain, cuts.cuts), instant };
  };

  const handlers: Record<RouteSpec['operationId'], (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>> = {
    async getCustomer(request) {
      const { id } = parse(CustomerParams, request.params, 'path');
      const { at } = parse(CustomerQuery, request.query, 'query');
      const [stored, { domain, instant }] = await Promise.all([readStoredCustomer(redis, prefix, partitions, id), readContext(at)]);
      if (stored === null) throw new ApiError('not_found', 'no such customer');
      const { reading, atSource } = readAt(stored.state, instant, domain);
      // The rules behind the stored memberships, at their evaluation: the segmenter's.
      return customerView(stored, reading, atSource, describe(stored.state, domain).reasons, recentChanges(id, stored.history, config.topicSuffix));
    },

    async listCustomers(request): Promise<CustomerPage> {
      const query = parse(CustomersQuery, request.query, 'query');
      let where: Where | null = null;
      if (query.where !== undefined) {
        const colon = query.where.indexOf(':');
        const [dimension, value] = [query.where.slice(0, colon) as Dimension, query.where.slice(colon + 1)];
        const error = DIMENSIONS.includes(dimension)
          ? segmentValueError(dimension, value)
          : { unknown: false, message: `${dimension} is not a dimension: one of ${DIMENSIONS.join(', ')}` };
        if (error !== null) throw new ApiError('bad_request', error.message, [{ path: 'query.where', message: error.message }]);
        where = { dimension, value };
      }
      const walk = where === null ? 'customers' : `customers?${where.dimension}:${where.value}`;
      const from = cursorAt(query.cursor, partitions, walk);
      const [page, { domain, instant }] = await Promise.all([readCustomerPage(redis, prefix, partitions, where, query.limit, from), readContext(query.at)]);
      return {
        at: instant.at === null ? null : new Date(instant.at).toISOString(),
        atSource: instant.source,
        where: query.where ?? null,
        customers: page.customers.map((c) => {
          const { reading, atSource } = readAt(c.state, instant, domain);
          return customerItem(c, reading, atSource);
        }),
        nextCursor: page.next === null ? null : encodeCursor(page.next, walk),
      };
    },

    async getSegmentCounts(): Promise<SegmentCounts> {
      const totals = await readSegmentCounts(redis, prefix, partitions);
      const dimensions = Object.fromEntries(DIMENSIONS.map((d) => [d, {} as Record<string, number>])) as Record<Dimension, Record<string, number>>;
      for (const [d, values] of Object.entries(VOCABULARIES)) for (const v of values) dimensions[d as Dimension][v] = 0;
      for (const s of config.domain.segments) dimensions.custom[s.name] = 0;
      for (const [field, n] of totals) {
        const split = splitCountField(field);
        if (split === null) continue;
        // Closed dimensions list their vocabulary only; custom lists whatever Redis counts too.
        if (split.dimension === 'custom' || split.value in dimensions[split.dimension]) dimensions[split.dimension][split.value] = n;
      }
      return { partitions, dimensions: dimensions as SegmentCounts['dimensions'] };
    },

    async getSegmentMembers(request): Promise<MemberPage> {
      const { dimension, value } = parse(MembersParams, request.params, 'path');
      const { limit, cursor } = parse(MembersQuery, request.query, 'query');
      const error = segmentValueError(dimension, value);
      if (error?.unknown) throw new ApiError('not_found', error.message);
      if (error !== null) throw new ApiError('bad_request', error.message, [{ path: 'path.value', message: error.message }]);
      const from = cursorAt(cursor, partitions);
      const page = await readMemberPage(redis, prefix, partitions, dimension, value, limit, from);
      return { dimension, value, members: page.members, nextCursor: page.next === null ? null : encodeCursor(page.next) };
    },

    async healthz() {
      return { status: 'ok' };
    },

    async readyz(_request, reply) {
      const ready = redis.status === 'ready';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', redis: redis.status });
    },

    async metrics(_request, reply) {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },

    async openapi() {
      return openapi;
    },
  };

  for (const r of ROUTES) app.route({ method: r.method, url: r.url, handler: handlers[r.operationId] });
  return app;
}
