/**
 * The profile API's Prometheus metrics (prom-client). One registry per instance, so tests can
 * run several in one process. Routes are labelled by their pattern (`/customers/:id`), never
 * by the raw URL: customer ids are personal data, and unbounded label values would grow the
 * series without end.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'crm_api_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    denied: new Counter({
      name: 'crm_api_requests_denied_total',
      help: 'Requests refused before their route ran: unauthenticated (401), forbidden (403: the token lacks the scope), rate_limited (429), by token name ("" when unauthenticated); never the token itself',
      labelNames: ['reason', 'token'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'crm_api_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'] as const,
      // Redis reads answer in about a millisecond; member pages of many SSCANs take longer.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
