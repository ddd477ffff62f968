/**
 * The process as operators run it: configuration errors stop it with exit 78 naming the
 * variable; logs carry route patterns, never customer ids or tokens; SIGTERM stops it cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEndpoints, uniqueName } from '@crm/testkit';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TOKEN = 'tok_profile_api_main_test_000000001';

function start(env: Record<string, string>): { child: ChildProcess; lines: Array<Record<string, unknown>>; stderr: string[] } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    child.emit('lines');
  });
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  return { child, lines, stderr };
}

/** Resolves with the first log line matching `msg`, as soon as it is written. */
async function line(p: ReturnType<typeof start>, msg: string): Promise<Record<string, unknown>> {
  for (;;) {
    const found = p.lines.find((l) => l['msg'] === msg);
    if (found) return found;
    if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode} before logging "${msg}": ${p.stderr.join('')}`);
    await Promise.race([once(p.child, 'lines'), once(p.child, 'exit')]);
  }
}

describe('profile-api process', () => {
  it('refuses a bad configuration with exit 78, naming the variable', async () => {
    const p = start({ REDIS_URL: 'http://nope' });
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(78);
    expect(p.stderr.join('')).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(p.stderr.join('')).toMatch(/PROFILE_API_TOKENS_FILE: is required/);
  });

  it('serves, logs without PII, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'profile-api-main-'));
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: [TOKEN] }));
    const p = start({
      REDIS_URL: testEndpoints().redisUrl,
      CRM_KEY_PREFIX: uniqueName('api-main'),
      CRM_PARTITIONS: '3',
      PROFILE_API_PORT: '0',
      PROFILE_API_HOST: '127.0.0.1',
      PROFILE_API_TOKENS_FILE: join(dir, 'tokens.json'),
    });
    const listening = await line(p, 'profile API listening');
    const address = listening['address'] as string;
    const res = await fetch(`${address}/customers/jane.doe%40example.com`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    const request = await line(p, 'request');
    expect(request).toMatchObject({ route: '/customers/:id', status: 404, method: 'GET' });

    p.child.kill('SIGTERM');
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(0);
    expect(p.lines.some((l) => l['msg'] === 'profile API stopped')).toBe(true);
    const output = p.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(output).not.toContain('jane.doe');
    expect(output).not.toContain(TOKEN);
  });
});
