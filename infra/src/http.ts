/** A small HTTP(S) call that can trust a given CA and send basic auth (fetch can do neither without undici). */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpOptions {
  method?: string;
  /** A JSON body (sent as application/vnd.schemaregistry.v1+json, which the registry's Confluent API takes). */
  json?: unknown;
  /** PEM of the CA to trust instead of the system's. */
  ca?: string;
  /** Basic auth. */
  auth?: { username: string; password: string };
  timeoutMs?: number;
}

export function callHttp(url: string, { method = 'GET', json, ca, auth, timeoutMs = 2000 }: HttpOptions = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const body = json === undefined ? undefined : JSON.stringify(json);
  if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers, ...(ca ? { ca } : {}), timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.origin} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
