/**
 * A service's operational HTTP server: /metrics (Prometheus text), /healthz (the process is
 * alive and its loop turns), /readyz (the service's own readiness) and any JSON routes the
 * service adds. Everything else is a JSON 404.
 */
import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';

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

/** Listens on `port` (0: any free port) on every interface; resolves once listening. */
export function startHttp(port: number, registry: Registry, probes: Probes, extraRoutes: JsonRoutes = {}): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const extra = Object.hasOwn(extraRoutes, path) ? extraRoutes[path] : undefined;
    if (path === '/metrics') {
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
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
