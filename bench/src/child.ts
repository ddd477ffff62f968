/**
 * The segmenter under test, as a child process (`node services/segmenter/src/main.ts`) so its
 * CPU is its own (/proc) and it can be profiled (--cpu-prof). Ready when /readyz answers 200
 * (Redis connected, partitions assigned).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@crm/infra';
import { metricsToken } from '@crm/service-kit';

const MAIN = fileURLToPath(import.meta.resolve('@crm/segmenter').replace(/index\.ts$/, 'main.ts'));

export interface SegmenterChild {
  pid: number;
  port: number;
  /** The child's last output lines (for a failure's explanation). */
  output(): string;
  /** How the child ended (`exit code 1`, `signal SIGKILL`), or null while it runs. */
  ended(): string | null;
  /** SIGTERM, then waits for the graceful exit (SIGKILL after 40 s). */
  stop(): Promise<void>;
}

/** Starts the segmenter and resolves once it is ready. `nodeArgs` e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
export async function startSegmenter(env: Record<string, string>, nodeArgs: string[] = [], readyTimeoutMs = 60_000): Promise<SegmenterChild> {
  const port = await freePort();
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, MAIN], {
    // Loopback: this process polls and scrapes it there.
    env: { ...process.env, ...env, CRM_HTTP_PORT: String(port), CRM_HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => lines.slice(-20).join('\n');
  const deadline = Date.now() + readyTimeoutMs;
  const ended = () => (child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : null);
  for (;;) {
    if (ended() !== null) throw new Error(`segmenter ended (${ended()}) before it was ready:\n${output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`segmenter not ready after ${readyTimeoutMs} ms:\n${output()}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid as number,
    port,
    output,
    ended,
    async stop() {
      if (ended() === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Scrapes one counter family from the child's /metrics, summed over its label sets. */
export async function metricSum(port: number, name: string, labelFilter = ''): Promise<number> {
  const token = metricsToken(process.env);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labelFilter && !line.includes(labelFilter)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
