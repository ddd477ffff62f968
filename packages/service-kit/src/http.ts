/**
 * A service's operational HTTP server: /metrics (Prometheus text), /healthz (the process is
 * alive and its loop turns), /readyz (the service's own readiness) and any JSON routes the
 * service adds. Everything else is a JSON 404.
 *
 * It listens where it is told (loopback by default: metrics and probes are for the machine's
 * scraper and orchestrator, not the network). With a metrics token (CRM_METRICS_TOKEN_FILE),
 * /metrics and the service's own routes answer only `Authorization: Bearer <token>` (compared
 * in constant time) and 401 otherwise; /healthz and /readyz stay open for probes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Env } from './config.ts';
import { secretFile } from './connections.ts';

export interface Probes {
  ready: () => { ready: boolean; detail: Record<string, unknown> };
}

/** A JSON reply: `body` is serialized with JSON.stringify. */
export interface JsonReply {
  status: number;
  body: unknown;
}

/** Extra GET routes by exact path (no query string), e.g. `{ '/lag': () => ... }`. */
export type JsonRoutes = Readonly<Record<string, () => JsonReply>>;

/** Where the server listens, and the bearer token that guards /metrics (none: open). */
export interface HttpListen {
  /** 0: any free port. */
  port: number;
  /** Bind address: 127.0.0.1 (loopback) by default, 0.0.0.0 for every interface. */
  host: string;
  metricsToken: string | undefined;
}

/** A bind address variable (CRM_HTTP_HOST, LAG_HTTP_HOST, PROFILE_API_HOST): loopback unless told. */
export const httpHostVar = z
  .string()
  .regex(/^[\w.:-]+$/, 'must be an IP address or host name to bind, e.g. 127.0.0.1 or 0.0.0.0')
  .default('127.0.0.1');

/** CRM_METRICS_TOKEN_FILE: the bearer token /metrics requires, when set (registered as a secret). */
export function metricsToken(env: Env): string | undefined {
  const path = env['CRM_METRICS_TOKEN_FILE'];
  return path === undefined || path === '' ? undefined : secretFile('CRM_METRICS_TOKEN_FILE', path);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 7235), or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return m?.[1] ?? null;
}

/** Whether `req` carries `Bearer <token>`; constant time in the token's content. */
function authorized(req: IncomingMessage, token: Buffer): boolean {
  const candidate = bearerToken(req.headers.authorization);
  return candidate !== null && timingSafeEqual(digest(candidate), token);
}

/** Listens on `listen.port` at `listen.host`; resolves once listening. */
export function startHttp(listen: HttpListen, registry: Registry, probes: Probes, extraRoutes: JsonRoutes = {}): Promise<Server> {
  const token = listen.metricsToken === undefined ? undefined : digest(listen.metricsToken);
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const extra = Object.hasOwn(extraRoutes, path) ? extraRoutes[path] : undefined;
    const guarded = path === '/metrics' || extra !== undefined;
    if (guarded && token !== undefined && !authorized(req, token)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end('{"error":"unauthorized"}');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const r = probes.ready();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: r.ready ? 'ready' : 'not_ready', ...r.detail }));
    } else if (extra !== undefined) {
      const reply = extra();
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve(server));
  });
}
