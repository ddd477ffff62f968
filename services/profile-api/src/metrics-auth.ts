/**
 * CRM_METRICS_TOKEN_FILE, as the other services honour it: with a metrics token, /metrics
 * answers only `Authorization: Bearer <that token>` (compared in constant time) and 401
 * otherwise. The API's client tokens do not open it: metrics are for the scraper, and a
 * client's token cannot read them, nor the metrics token read a customer.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';
import { bearerToken } from '@crm/service-kit';
import { TokenSet } from './tokens.ts';

export const METRICS_URL = '/metrics';

/** Adds the check of /metrics' token to `app`; without a token, /metrics stays open. */
export function guardMetrics(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  const expected = new TokenSet([{ token, name: 'metrics', scopes: [], rateLimit: {} }]);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== METRICS_URL) return;
    const candidate = bearerToken(request.headers.authorization);
    if (candidate === null || expected.verify(candidate) === null)
      throw new ApiError('unauthorized', 'missing or wrong metrics token: send Authorization: Bearer <the token in CRM_METRICS_TOKEN_FILE>');
  });
}
