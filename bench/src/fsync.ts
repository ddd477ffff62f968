/**
 * What `appendfsync always` costs against `everysec` for the segmenter's own write: the real
 * commitBatch.lua, committed back to back, on two Redis servers of this script's own (temp dirs
 * on the same disk, append-only file on, only appendfsync different). Rounds alternate between the two settings
 * so that a busy machine weighs on both alike. Prints commits per second and commit latency
 * p50/p99, for one partition committing alone and for several committing at once (Redis fsyncs
 * once per event-loop turn, so concurrent commits share an fsync).
 *
 *   ./bin/pnpm exec node bench/src/fsync.ts [--seconds=5] [--rounds=2] [--partitions=6] [--customers=200] [--records=100]
 *
 * By default a commit looks like a busy unit of work: 200 customers (a 250-character record
 * each), 100 changes of 300 bytes to the outbox, the fence moved. Numbers only; nothing fails on timing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@crm/infra';
import { ackOutbox, commitBatch, partitionKeys, readFence } from '@crm/store';
import { Redis } from 'ioredis';

const option = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const SECONDS = option('seconds', 5);
const ROUNDS = option('rounds', 2);
const PARTITIONS = option('partitions', 6);
const CUSTOMERS = option('customers', 200);
const RECORDS = option('records', 100);

async function startRedis(fsync: 'always' | 'everysec'): Promise<{ redis: Redis; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `crm-fsync-${fsync}-`));
  const port = await freePort();
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    ...['--appendonly', 'yes', '--appendfsync', fsync, '--auto-aof-rewrite-percentage', '0'],
  ];
  const child: ChildProcess = spawn('/usr/bin/redis-server', args, {
    stdio: 'ignore',
  });
  const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  for (let i = 0; redis.status !== 'ready'; i++) {
    if (i > 200) throw new Error(`redis-server (${fsync}) did not start`);
    await sleep(50);
  }
  return {
    redis,
    stop: async () => {
      redis.disconnect();
      child.kill('SIGKILL');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Commits back to back on `partitions` partitions at once for SECONDS; returns every commit's latency (ms). */
async function run(redis: Redis, partitions: number, round: number): Promise<number[]> {
  const latencies: number[] = [];
  const state = 'x'.repeat(250);
  const value = Buffer.alloc(300, 1);
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      const keys = partitionKeys(`fsync-${round}-${partitions}`, p);
      let versions = 0;
      for (let n = 0; performance.now() < until; n++) {
        const fence = await readFence(redis, keys);
        const t0 = performance.now();
        const result = await commitBatch(redis, keys, {
          fence: { expected: { orders: fence['orders'] ?? null }, next: { orders: String((n + 1) * CUSTOMERS) } },
          customers: Array.from({ length: CUSTOMERS }, (_, i) => ({ id: `c${p}-${i}`, version: versions, state, dueAt: null })),
          records: Array.from({ length: RECORDS }, (_, i) => ({ key: `c${p}-${i}`, value })),
          moves: [],
        });
        latencies.push(performance.now() - t0);
        versions++;
        if (result.lastId !== null) await ackOutbox(redis, keys, result.lastId);
      }
    }),
  );
  return latencies;
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2);
  return `${(latencies.length / SECONDS).toFixed(0).padStart(6)} commits/s  p50 ${at(0.5).padStart(6)} ms  p99 ${at(0.99).padStart(6)} ms`;
}

const servers = { everysec: await startRedis('everysec'), always: await startRedis('always') };
console.log(`fsync: ${SECONDS} s per run, ${ROUNDS} rounds, commits of ${CUSTOMERS} customers + ${RECORDS} outbox records`);
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const partitions of [1, PARTITIONS]) {
      for (const fsync of ['everysec', 'always'] as const) {
        const latencies = await run(servers[fsync].redis, partitions, round);
        console.log(`round ${round}  ${String(partitions).padStart(2)} partition(s)  appendfsync ${fsync.padEnd(8)}  ${summary(latencies)}`);
      }
    }
  }
} finally {
  await Promise.all([servers.everysec.stop(), servers.always.stop()]);
}
