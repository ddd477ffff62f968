/**
 * Daemons started by infra: each runs detached in its own process group, with its pid in
 * `<stateDir>/<name>.pid` and its output in `<stateDir>/<name>.log`. Stopping signals the
 * whole group, so no child (a JVM's helpers, redis' forks) is left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from './config.ts';

export interface Daemon {
  name: string;
  stateDir: string;
}

export const pidFile = (d: Daemon): string => join(d.stateDir, `${d.name}.pid`);
export const logFile = (d: Daemon): string => join(d.stateDir, `${d.name}.log`);

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a running daemon started by infra, or null (a stale pid file is removed). */
export function runningPid(d: Daemon): number | null {
  const file = pidFile(d);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
  rmSync(file, { force: true });
  return null;
}

export function startDaemon(d: Daemon, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const out = openSync(logFile(d), 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env, cwd: d.stateDir });
    if (child.pid === undefined) throw new InfraError(`${d.name}: could not start ${command}`);
    child.unref();
    writeFileSync(pidFile(d), String(child.pid));
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM to the daemon's process group, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopDaemon(d: Daemon, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(d);
  if (pid === null) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(d), { force: true });
  return true;
}

/** True when something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** Throws naming the port and its variable when another process already holds one of `ports`. */
export async function ensurePortsFree(ports: { port: number; variable: string }[], server: string): Promise<void> {
  for (const { port, variable } of ports) {
    if (await portInUse(port)) {
      throw new InfraError(`port ${port} on 127.0.0.1 is already taken by a process infra did not start; stop it or move ${server} with ${variable}`);
    }
  }
}

export function logTail(d: Daemon, lines = 25): string {
  if (!existsSync(logFile(d))) return '(no log)';
  return readFileSync(logFile(d), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `probe` until it resolves truthy. Fails fast, with the log's tail, when the daemon
 * dies, and with `hint` when `timeoutMs` passes.
 */
export async function waitHealthy<T>(d: Daemon, pid: number, probe: () => Promise<T | undefined>, timeoutMs: number, hint: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!isAlive(pid)) {
      throw new InfraError(`${d.name} exited during start-up; last lines of ${logFile(d)}:\n${logTail(d)}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new InfraError(`${d.name} did not answer within ${timeoutMs / 1000} s${why}: ${hint}; last lines of ${logFile(d)}:\n${logTail(d)}`);
    }
    await sleep(250);
  }
}

/**
 * Runs a command to completion without blocking the event loop; rejects with the tail of its
 * output when it fails. Never spawnSync here: a minutes-long Maven download or apt-get install
 * would freeze every other server's health check meanwhile (their connect timeouts fire at once
 * when the loop wakes up, and a healthy Redis then looks dead: issue #15).
 */
export function run(command: string, args: string[], what: string, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', (err) => reject(new InfraError(`${what}: cannot run ${command}: ${err.message}`)));
    child.once('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      if (code === 0) return resolve(output);
      const tail = output.trim().split('\n').slice(-30).join('\n');
      reject(new InfraError(`${what} failed (${signal ? `signal ${signal}` : `exit ${code}`}):\n${tail}`));
    });
  });
}

export function which(command: string): string | null {
  const res = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}
