/**
 * A Redis server of a test's own (never the shared one) with an append-only file: a
 * redis-server process on a free port in a temp dir, fsync every second and a truncated file
 * refused at load, as infra runs it. For tests that kill it, cut its append-only file, repair
 * and restart it on the same port and directory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './helpers.ts';
import { freePort } from '@crm/infra';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CHECK_AOF = '/usr/bin/redis-check-aof';

export class AofRedis {
  readonly dir: string;
  readonly port: number;
  private child: ChildProcess | undefined;
  /** Further redis-server arguments (e.g. `--replicaof host port`). */
  private readonly args: readonly string[];
  /** Everything the server wrote, across its starts. */
  output = '';

  private constructor(dir: string, port: number, args: readonly string[]) {
    this.dir = dir;
    this.port = port;
    this.args = args;
  }

  /** Starts a new server and waits until it answers. */
  static async start(args: readonly string[] = []): Promise<AofRedis> {
    const r = new AofRedis(mkdtempSync(join(tmpdir(), 'crm-own-redis-')), await freePort(), args);
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A client of this server (the caller quits it). */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 3 });
  }

  /**
   * Starts the server on its port and directory; resolves once it answers PING, or with its exit
   * code when it refuses to start (a truncated append-only file).
   */
  async restart(): Promise<{ exitCode: number | null }> {
    const args = [
      ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--logfile', ''],
      // As infra runs it (infra/src/redis.ts), and no AOF rewrite: tests cut the file the server writes to.
      ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--aof-load-truncated', 'no', '--auto-aof-rewrite-percentage', '0'],
      ...this.args,
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    const exited = once(child, 'exit').then(([code]) => ({ exitCode: code as number | null }));
    const ready = waitFor(
      'own redis-server answering PING',
      async () => {
        if (child.exitCode !== null) return { exitCode: child.exitCode };
        const c = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          return (await c.ping()) === 'PONG' ? { exitCode: null } : undefined;
        } finally {
          c.disconnect();
        }
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    return Promise.race([ready, exited]);
  }

  /** SIGKILL: what was written to the append-only file stays (the kernel holds it); nothing else is done. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** The append-only file the server writes to now (Redis 7's multi-part AOF: the last incr file). */
  incrFile(): string {
    const aofDir = join(this.dir, 'appendonlydir');
    const incr = readdirSync(aofDir)
      .filter((f) => f.endsWith('.incr.aof'))
      .sort((a, b) => Number(/\.(\d+)\.incr\.aof$/.exec(a)?.[1]) - Number(/\.(\d+)\.incr\.aof$/.exec(b)?.[1]));
    const last = incr[incr.length - 1];
    if (last === undefined) throw new Error(`no incr AOF in ${aofDir}`);
    return join(aofDir, last);
  }

  /** `redis-check-aof --fix` on the manifest, answering its question; returns its output. */
  fixAof(): string {
    const aofDir = join(this.dir, 'appendonlydir');
    const manifest = readdirSync(aofDir).find((f) => f.endsWith('.manifest'));
    if (manifest === undefined) throw new Error(`no AOF manifest in ${aofDir}`);
    const res = spawnSync(REDIS_CHECK_AOF, ['--fix', join(aofDir, manifest)], { input: 'y\n', encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`redis-check-aof --fix failed (${res.status}): ${res.stdout}${res.stderr}`);
    return res.stdout + res.stderr;
  }

  /** Kills the server and removes its directory. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
