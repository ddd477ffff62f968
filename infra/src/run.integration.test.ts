/**
 * `./bin/pnpm start` is `node infra/src/cli.ts run -- node services/demo/src/main.ts`. A person
 * who tries the demo and presses Ctrl-C must have nothing of the checkout left running: the
 * servers `run` started stop with it, and a server it found running stays up (issue #15).
 * Its own state directory and ports: the suite's servers are never touched.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { infraConfig } from './config.ts';
import { down } from './index.ts';
import { freePorts } from './ports.ts';
import { isAlive, runningPid } from './process.ts';
import { redisDaemon, startRedis } from './redis.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Pids of live processes whose environment carries `marker` (every process `run` starts inherits it). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

const stateDir = mkdtempSync(join(tmpdir(), 'crm-run-test-'));
let env: Record<string, string>;

afterAll(async () => {
  if (env !== undefined) await down(infraConfig(env));
});

describe('infra run (what ./bin/pnpm start uses)', () => {
  it('stops the servers it started when the demo ends on Ctrl-C, and leaves running the one it found running', async () => {
    const [kafka, controller, redis, registry] = (await freePorts(4)) as [number, number, number, number];
    env = {
      CRM_INFRA_DIR: stateDir,
      CRM_KAFKA_PORT: String(kafka),
      CRM_KAFKA_CONTROLLER_PORT: String(controller),
      CRM_REDIS_PORT: String(redis),
      // The registry's management port is its port + 1000: keep both in range.
      CRM_REGISTRY_PORT: String(registry > 64000 ? registry - 2000 : registry),
    };
    const cfg = infraConfig(env);
    // Found running: started here, before `run`, so `run` must leave it up.
    await startRedis(cfg);
    const redisPid = runningPid(redisDaemon(cfg));

    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, DEMO_SCREEN: 'plain', DEMO_DAYS_PER_SECOND: '10', DEMO_CUSTOMERS: '200', DEMO_RATE: '200' };
    for (const k of ['KAFKA_BROKERS', 'REDIS_URL', 'SCHEMA_REGISTRY_URL', 'CRM_KEEP_INFRA']) delete childEnv[k];
    const run = spawn(process.execPath, ['infra/src/cli.ts', 'run', '--', process.execPath, 'services/demo/src/main.ts'], { cwd: ROOT, env: childEnv });
    let out = '';
    // The demo is up once it prints a segment change (a line with an arrow).
    const demoUp = new Promise<void>((resolve, reject) => {
      const take = (c: Buffer) => {
        out += c.toString();
        if (/→/.test(out)) resolve();
      };
      run.stdout.on('data', take);
      run.stderr.on('data', take);
      run.on('exit', (code) => reject(new Error(`run ended early (exit ${code}):\n${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    await demoUp;
    expect(out).toMatch(/kafka, registry stop when this ends/);

    run.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/infra: stopped (kafka, registry|registry, kafka)/);
    // Nothing that `run` started is left: not the demo, not the broker, not the registry.
    expect(processesWith(`CRM_INFRA_DIR=${stateDir}`)).toEqual([]);
    // The Redis it found running is still up.
    expect(redisPid).not.toBeNull();
    expect(isAlive(redisPid as number)).toBe(true);
  }, 240_000);
});
