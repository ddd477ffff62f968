/**
 * The schema registry behind HTTPS with basic auth, as the shared settings reach it. The
 * project's registry (Apicurio) leaves authentication to what stands in front of it, so the
 * test puts a TLS-terminating proxy that demands basic auth (certificate from a throwaway CA)
 * before the real registry: with the CA and the credentials the project's schemas are found;
 * without credentials, with a wrong password, or without the CA, nothing gets through.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSchemas } from '@crm/contracts';
import { registryConnection, registryOptions } from '@crm/service-kit';
import { makeCa, makeSignedCert, testEndpoints } from '@crm/testkit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const USER = 'crm-segmenter';
const PASSWORD = 'registry-basic-auth-password';

describe('the schema registry over HTTPS with basic auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-registry-tls-'));
  const upstream = new URL(testEndpoints().schemaRegistryUrl);
  let proxy: Server;
  let url: string;

  beforeAll(async () => {
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    makeSignedCert(dir, 'ca', 'registry');
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    proxy = createServer({ cert: readFileSync(join(dir, 'registry.pem')), key: readFileSync(join(dir, 'registry.key')) }, (req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="registry"' });
        res.end('{"error_code":401,"message":"Unauthorized"}');
        return;
      }
      const { authorization: _a, host: _h, ...headers } = req.headers;
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(forward);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    url = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}${upstream.pathname}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const registry = (env: Record<string, string>, at = url) => new SchemaRegistry({ ...registryOptions(registryConnection(env, at)), retry: { retries: 0 } });
  const trusted = () => ({ SCHEMA_REGISTRY_CA_FILE: join(dir, 'ca.pem') });

  it('finds the same schema ids through the CA and the credentials as directly', async () => {
    const direct = await registerSchemas(new SchemaRegistry({ host: testEndpoints().schemaRegistryUrl }));
    expect(await registerSchemas(registry({ ...trusted(), SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD_FILE: join(dir, 'password') }))).toEqual(
      direct,
    );
    // Credentials inside the URL move to basic auth and work the same.
    const inUrl = url.replace('https://', `https://${USER}:${PASSWORD}@`);
    expect(await registerSchemas(registry(trusted(), inUrl))).toEqual(direct);
  });

  it('gets nothing without credentials or with a wrong password', async () => {
    await expect(registerSchemas(registry(trusted()))).rejects.toThrow(/401|Unauthorized/);
    await expect(registerSchemas(registry({ ...trusted(), SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: 'wrong' }))).rejects.toThrow(
      /401|Unauthorized/,
    );
  });

  it('refuses a registry whose certificate the configured CA did not sign, or without a CA', async () => {
    const creds = { SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD_FILE: join(dir, 'password') };
    await expect(registerSchemas(registry({ ...creds, SCHEMA_REGISTRY_CA_FILE: join(dir, 'other-ca.pem') }))).rejects.toThrow(
      /certificate|self[- ]signed|verify/i,
    );
    await expect(registerSchemas(registry(creds))).rejects.toThrow(/certificate|self[- ]signed|verify/i);
  });
});
