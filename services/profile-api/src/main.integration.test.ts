/**
 * The process as operators run it: configuration errors stop it with exit 78 naming the
 * variable; logs carry route patterns, never customer ids or tokens; SIGTERM stops it cleanly.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logLine, spawnNode, testEndpoints, testRedis, uniqueName } from '@crm/testkit';
import { describe, expect, it } from 'vitest';
import { PARTITIONS, writeRecord } from './testing/api.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TOKEN = 'tok_profile_api_main_test_000000001';

const start = (env: Record<string, string>) => spawnNode(MAIN, env);

describe('profile-api process', () => {
  it('refuses a bad configuration with exit 78, naming the variable', async () => {
    const p = start({ REDIS_URL: 'http://nope' });
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(p.stderr()).toMatch(/PROFILE_API_TOKENS_FILE: is required/);
  });

  it('serves on loopback, logs without PII even for a corrupt record, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'profile-api-main-'));
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: [TOKEN] }));
    const prefix = uniqueName('api-main');
    // A record whose text (and so the parser's error message) holds the customer id.
    const redis = testRedis();
    await writeRecord(redis, prefix, 'john.roe@example.com', 'john.roe@example.com: no version prefix');
    await redis.quit();
    const p = start({
      REDIS_URL: testEndpoints().redisUrl,
      CRM_KEY_PREFIX: prefix,
      CRM_PARTITIONS: String(PARTITIONS),
      PROFILE_API_PORT: '0',
      PROFILE_API_TOKENS_FILE: join(dir, 'tokens.json'),
    });
    const listening = await logLine(p, 'profile API listening');
    const address = listening['address'] as string;
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${address}/customers/jane.doe%40example.com`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    const request = await logLine(p, 'request');
    expect(request).toMatchObject({ route: '/customers/:id', status: 404, method: 'GET' });
    expect((await fetch(`${address}/customers/john.roe%40example.com`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(500);
    expect(await logLine(p, 'request failed')).toMatchObject({ route: '/customers/:id', error: { type: 'Error' } });

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.some((l) => l['msg'] === 'profile API stopped')).toBe(true);
    const output = p.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(output).not.toContain('jane.doe');
    expect(output).not.toContain('john.roe');
    expect(output).not.toContain(TOKEN);
  });
});
