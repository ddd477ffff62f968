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
import { Redis } from 'ioredis';
import type { InfraConfig } from './config.ts';
import { InfraError } from './config.ts';
import { ensureDebianTool } from './debian.ts';
import { type Daemon, portInUse, runningPid, startDaemon, waitHealthy } from './process.ts';

const REDIS_MIN_MAJOR = 7;

export const redisDaemon = (cfg: InfraConfig): Daemon => ({ name: 'redis', stateDir: cfg.stateDir });

/** The redis-server binary; installs Debian's package when missing and running as root. */
export function ensureRedisServer(): string {
  return ensureDebianTool('redis-server', 'redis-server', 'the local Redis (Redis 7+)');
}

export async function redisHealthy(cfg: InfraConfig): Promise<string | undefined> {
  const redis = new Redis({ host: '127.0.0.1', port: cfg.redisPort, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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

export async function startRedis(cfg: InfraConfig): Promise<{ version: string; started: boolean }> {
  const d = redisDaemon(cfg);
  const existing = runningPid(d);
  let started = false;
  let pid = existing;
  if (pid === null) {
    if (await portInUse(cfg.redisPort)) {
      throw new InfraError(`port ${cfg.redisPort} on 127.0.0.1 is already taken by a process infra did not start; stop it or move Redis with CRM_REDIS_PORT`);
    }
    const bin = ensureRedisServer();
    const dir = join(cfg.stateDir, 'redis');
    mkdirSync(dir, { recursive: true });
    pid = startDaemon(d, bin, [
      '--port',
      String(cfg.redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
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
  const version = await waitHealthy(d, pid, () => redisHealthy(cfg), 30_000, 'redis never answered PING');
  const major = Number(version.split('.')[0]);
  if (!(major >= REDIS_MIN_MAJOR)) throw new InfraError(`Redis ${REDIS_MIN_MAJOR}+ is required, redis-server is ${version}`);
  return { version, started };
}
