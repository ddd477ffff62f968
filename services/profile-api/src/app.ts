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
import { VOCABULARIES } from '@crm/domain';
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
import { readCustomer, readMemberPage, readSegmentCounts, splitCountField } from './reads.ts';
import { RateLimiter } from './ratelimit.ts';
import { ROUTES, type RouteSpec } from './routes.ts';
import { CustomerParams, type MemberPage, MembersParams, MembersQuery, type SegmentCounts } from './schemas.ts';
import { type Scope, TokenSet, bearerToken } from './tokens.ts';
import { customerView } from './views.ts';

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

  const handlers: Record<RouteSpec['operationId'], (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>> = {
    async getCustomer(request) {
      const { id } = parse(CustomerParams, request.params, 'path');
      const stored = await readCustomer(redis, prefix, partitions, id);
      if (stored === null) throw new ApiError('not_found', 'no such customer');
      return customerView(stored, config.domain, recentChanges(id, stored.history));
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
      if (dimension === 'custom') {
        if (!config.domain.segments.some((s) => s.name === value)) throw new ApiError('not_found', `no user-defined segment named ${value}`);
      } else if (!VOCABULARIES[dimension].includes(value)) {
        throw new ApiError('bad_request', `${value} is not a value of ${dimension}`, [
          { path: 'path.value', message: `must be one of ${VOCABULARIES[dimension].join(', ')}` },
        ]);
      }
      let from: ReturnType<typeof decodeCursor> | undefined;
      try {
        from = cursor === undefined ? undefined : decodeCursor(cursor, partitions);
      } catch (err) {
        if (err instanceof CursorError) throw new ApiError('bad_request', err.message, [{ path: 'query.cursor', message: err.message }]);
        throw err;
      }
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
