/**
 * Redis 7+ from Debian's redis-server package, on a non-default port, append-only file on
 * (fsync every second, as production would run it), and a truncated append-only file refused
 * at load (`aof-load-truncated no`): Redis 7.0 cuts a torn file inside a MULTI block and later
 * replays the orphaned half with the next transaction. Repair with `redis-check-aof --fix`
 * (it cuts at a transaction boundary); the segmenter then finds the fences behind and re-applies
 * (docs/architecture.md, "Durability").
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { type InfraConfig, InfraError } from './config.ts';
import { ensureDebianTool } from './debian.ts';
import { type Daemon, ensurePortsFree, runningPid, startDaemon, waitHealthy } from './process.ts';

const REDIS_MIN_MAJOR = 7;

export const redisDaemon = (cfg: InfraConfig): Daemon => ({ name: 'redis', stateDir: cfg.stateDir });

/** The redis-server binary; installs Debian's package when missing and running as root. */
export function ensureRedisServer(): Promise<string> {
  return ensureDebianTool('redis-server', 'redis-server', 'the local Redis (Redis 7+)');
}

/** The server's version when the Redis that `options` reach answers PING. */
export async function redisAnswers(options: RedisOptions): Promise<string | undefined> {
  const redis = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    if ((await redis.ping()) !== 'PONG') return undefined;
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return version;
  } finally {
    redis.disconnect();
  }
}

export function redisHealthy(cfg: InfraConfig): Promise<string | undefined> {
  return redisAnswers({ host: '127.0.0.1', port: cfg.redisPort });
}

/** One Redis to start: the plain profile's or the secure one's. */
export interface RedisServer {
  daemon: Daemon;
  /** Its data folder (AOF). */
  dir: string;
  port: { port: number; variable: string };
  /** Arguments beyond the data folder, AOF and logging ones (ports, TLS, ACL file). */
  args: string[];
  healthy(): Promise<string | undefined>;
}

export function startRedis(cfg: InfraConfig): Promise<{ version: string; started: boolean }> {
  return startRedisServer({
    daemon: redisDaemon(cfg),
    dir: join(cfg.stateDir, 'redis'),
    port: { port: cfg.redisPort, variable: 'CRM_REDIS_PORT' },
    args: ['--port', String(cfg.redisPort)],
    healthy: () => redisHealthy(cfg),
  });
}

export async function startRedisServer(server: RedisServer): Promise<{ version: string; started: boolean }> {
  const d = server.daemon;
  let pid = runningPid(d);
  let started = false;
  if (pid === null) {
    await ensurePortsFree([server.port], 'Redis');
    const bin = await ensureRedisServer();
    mkdirSync(server.dir, { recursive: true });
    pid = startDaemon(d, bin, [
      ...server.args,
      '--bind',
      '127.0.0.1',
      '--dir',
      server.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--aof-load-truncated',
      'no',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ]);
    started = true;
  }
  const version = await waitHealthy(d, pid, server.healthy, 30_000, 'redis never answered PING');
  const major = Number(version.split('.')[0]);
  if (!(major >= REDIS_MIN_MAJOR)) throw new InfraError(`Redis ${REDIS_MIN_MAJOR}+ is required, redis-server is ${version}`);
  return { version, started };
}
