/**
 * The demo as a user runs it: a child process against the real servers, with fast time
 * compression. It must show a time-driven change (cause timer) and a tally, then stop cleanly
 * on Ctrl-C (SIGINT): exit 0, no process left, and the run's topics and keys deleted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEndpoints, testKafka, testRedis, uniqueName, waitFor } from '@crm/testkit';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('demo', () => {
  it('shows timer-driven changes and a tally, and stops cleanly on SIGINT', async () => {
    const e = testEndpoints();
    const runId = uniqueName('t');
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        KAFKA_BROKERS: e.kafkaBrokers,
        REDIS_URL: e.redisUrl,
        SCHEMA_REGISTRY_URL: e.schemaRegistryUrl,
        DEMO_RUN_ID: runId,
        DEMO_SCREEN: 'plain',
        // 10 simulated days a wall second: R scores move (30 days) a few seconds after the first purchases.
        DEMO_DAYS_PER_SECOND: '10',
        DEMO_CUSTOMERS: '5000',
        DEMO_RATE: '2000',
        DEMO_MAX_LINES_PER_SECOND: '0',
        DEMO_TALLY_INTERVAL_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pid = child.pid as number;
    try {
      const lines = () => stdout.split('\n');
      const timerLine = await waitFor('a change caused by a timer', () => lines().find((l) => /\s→\s.*\stimer$/.test(l)), {
        timeoutMs: 40_000,
        intervalMs: 100,
      });
      expect(timerLine).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+c\d+\s+\w+/);
      await waitFor('a tally with the stage dimension', () => /^tally .*changes [\d,]+ \(timer [1-9][\d,]*\)\n\s+stage\s+/m.test(stdout), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      expect(lines().some((l) => /\s→\s.*\sevent orders\[\d+\]@\d+$/.test(l))).toBe(true);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${String(err)}\n--- stdout (tail)\n${stdout.slice(-3000)}\n--- stderr\n${stderr}`);
    }

    child.kill('SIGINT');
    const code = await exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/demo: stopped\n$/);
    expect(alive(pid)).toBe(false);

    // Nothing of the run is left on the servers.
    const admin = testKafka().admin();
    await admin.connect();
    const redis = testRedis();
    try {
      await waitFor('the run’s topics to be gone', async () => !(await admin.listTopics()).some((t) => t.endsWith(`.demo-${runId}`)), { timeoutMs: 10_000 });
      expect(await redis.keys(`crm-demo-${runId}:*`)).toEqual([]);
    } finally {
      await admin.disconnect();
      await redis.quit();
    }
  });
});
