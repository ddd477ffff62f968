/**
 * /metrics (Prometheus text), /lag (the last collection as JSON), /healthz (the process is
 * alive) and /readyz (the last collection succeeded).
 */
import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';

export interface Endpoints {
  ready: () => { ready: boolean; detail: Record<string, unknown> };
  /** The last collection, or undefined before the first one. */
  lag: () => unknown;
}

export function startHttp(port: number, registry: Registry, endpoints: Endpoints): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    } else if (path === '/lag') {
      const lag = endpoints.lag();
      res.writeHead(lag === undefined ? 503 : 200, { 'content-type': 'application/json' });
      res.end(lag === undefined ? '{"error":"no collection yet"}' : JSON.stringify(lag));
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const r = endpoints.ready();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: r.ready ? 'ready' : 'not_ready', ...r.detail }));
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
