/**
 * A Redis server of a test's own (redis-server on a free port, in a temp dir), for tests that
 * must configure Redis in ways the shared server must not be (passwords, ACL users, TLS), or
 * stop it. It saves nothing to disk and is stopped (and its dir removed) by `stop`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@crm/infra';

/** Debian's path; REDIS_SERVER overrides it. */
const REDIS_SERVER = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';

export interface OwnRedis {
  port: number;
  /** Its temp dir (for files the test writes beside it: certificates, passwords). */
  dir: string;
  stop: () => Promise<void>;
}

/**
 * Starts redis-server on a free port and resolves once it accepts connections. `args(dir, port)`
 * adds config directives as arguments (['--requirepass', 'pw']); a later directive wins, so
 * ['--port', '0', '--tls-port', String(port), ...] moves the port to TLS.
 */
export async function startOwnRedis(args: (dir: string, port: number) => string[] = () => []): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-own-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args(dir, port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
  });
  try {
    await ready;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
