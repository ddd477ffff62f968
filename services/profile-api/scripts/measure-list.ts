#!/usr/bin/env node
/**
 * Measures `GET /customers`: customers/s and peak RSS of the API process while a client pages
 * through every customer, to show that memory stays flat in the number of customers. Not a test
 * (timing is asserted nowhere); run by hand against a Redis (REDIS_URL, default the local infra):
 *
 *   ./bin/pnpm exec node services/profile-api/scripts/measure-list.ts [customers=100000] [limit=500]
 *
 * The customers are written by the CLI's export measurement in its `--seed` mode (states folded
 * by the domain from 1-8 seeded orders each, 6 partitions, with their stage sets) under a key
 * prefix of their own, in a child process; this process only serves the pages (fastify's
 * inject, no socket) and reads them. The keys are deleted at the end. Results:
 * services/profile-api/README.md, "Paging customers".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@crm/testkit';
import { loadConfig } from '../src/config.ts';
import type { CustomerPage } from '../src/schemas.ts';
import { ProfileApi } from '../src/service.ts';

const SEED = fileURLToPath(new URL('../../../packages/cli/scripts/measure-export.ts', import.meta.url));
const TOKEN = 'tok_measure_list_000000000000000001';

const customers = Number(process.argv[2] ?? 100_000);
const limit = Number(process.argv[3] ?? 500);
if (!Number.isSafeInteger(customers) || customers < 1 || !Number.isSafeInteger(limit)) {
  process.stderr.write('usage: measure-list.ts [customers=100000] [limit=500]\n');
  process.exit(2);
}
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:16379';
const prefix = `measure-list-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'measure-list-'));
writeFileSync(join(dir, 'tokens'), `${TOKEN}\n`);

const seeding = Date.now();
execFileSync(process.execPath, [SEED, '--seed', prefix, String(customers), '1'], {
  env: { ...process.env, REDIS_URL: redisUrl, CRM_KEY_PREFIX: prefix },
  stdio: 'inherit',
});
process.stderr.write(`seeded ${customers} customers under ${prefix} in ${((Date.now() - seeding) / 1000).toFixed(1)} s\n`);

const api = new ProfileApi(
  loadConfig({
    REDIS_URL: redisUrl,
    CRM_KEY_PREFIX: prefix,
    CRM_PARTITIONS: '6',
    PROFILE_API_TOKENS_FILE: join(dir, 'tokens'),
    PROFILE_API_RATE_LIMIT: '1000000',
    PROFILE_API_RATE_LIMIT_BURST: '1000000',
  }),
  silentLogger,
);
await api.start({ listen: false });
try {
  for (const where of ['', 'stage:churned']) {
    const started = Date.now();
    let cursor: string | null = null;
    let at = '';
    let [read, pages, largest] = [0, 0, 0];
    do {
      const query = new URLSearchParams({
        limit: String(limit),
        ...(at === '' ? {} : { at }),
        ...(where === '' ? {} : { where }),
        ...(cursor === null ? {} : { cursor }),
      });
      const res = await api.app.inject({ method: 'GET', url: `/customers?${query}`, headers: { authorization: `Bearer ${TOKEN}` } });
      if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${res.body}`);
      const page = res.json() as CustomerPage;
      // Every page at the first page's instant.
      at = page.at ?? '';
      read += page.customers.length;
      pages++;
      largest = Math.max(largest, res.body.length);
      cursor = page.nextCursor;
    } while (cursor !== null);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `GET /customers${where === '' ? '' : `?where=${where}`} limit ${limit}: ${read} customers in ${pages} pages, ${seconds.toFixed(1)} s, ` +
        `${Math.round(read / seconds)} customers/s, largest page ${(largest / 1024).toFixed(0)} KB, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (heap used ${(process.memoryUsage().heapUsed / 1_048_576).toFixed(0)} MB)`,
    );
  }
} finally {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>) if (keys.length > 0) await redis.unlink(...keys);
  await redis.quit();
}
