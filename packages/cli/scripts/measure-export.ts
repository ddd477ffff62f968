#!/usr/bin/env node
/**
 * Measures `crm customers export`: customers/s and peak RSS of the exporting process, to show
 * that memory stays flat in the number of customers. Not a test (timing is asserted nowhere);
 * run by hand against a Redis (REDIS_URL, default the local infra):
 *
 *   ./bin/pnpm exec node packages/cli/scripts/measure-export.ts [customers=100000] [seed=1]
 *
 * A child process writes the customers (states folded by the domain from 1-8 seeded orders
 * each, in 6 partitions, with their stage sets) under a key prefix of their own, so the measured
 * process only exports (through `run`, as the command does, to /dev/null); the keys are
 * deleted at the end. Results: packages/cli/README.md, "Customers export".
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { mulberry32 } from '@crm/sample-data';
import type { OrderEvent } from '@crm/contracts';
import { type CustomerState, DAY_MS, apply, defaultDomainConfig, encodeState, evaluate } from '@crm/domain';
import { partitionFor, partitionKeys } from '@crm/store';
import type { ExportSummary } from '../src/commands/export.ts';
import { withRedis } from '../src/clients.ts';
import { cliConfig } from '../src/config.ts';
import { run } from '../src/run.ts';

const PARTITIONS = 6;
const [mode, ...args] = process.argv.slice(2);
const config = cliConfig(process.env);

if (mode === '--seed') {
  const [prefix, count, seed] = args as [string, string, string];
  const rnd = mulberry32(Number(seed));
  const now = Date.now();
  await withRedis(config, async (redis) => {
    for (let from = 0; from < Number(count); from += 1_000) {
      const pipeline = redis.pipeline();
      for (let i = from; i < Math.min(Number(count), from + 1_000); i++) {
        const id = `m${i}`;
        let s: CustomerState | null = null;
        const orders = 1 + Math.floor(rnd() * 8);
        for (let n = 0; n < orders; n++) {
          const time = new Date(Math.floor((now - rnd() * 730 * DAY_MS) / 1000) * 1000).toISOString();
          const e: OrderEvent = {
            specversion: '1.0',
            id: `${id}-${n}`,
            source: 'urn:measure',
            type: 'commerce.order.completed',
            time,
            subject: id,
            data: { orderId: `${id}-${n}`, amountMinor: 500 + Math.floor(rnd() * 20_000), currency: 'GBP', itemCount: 1, channel: 'web', storeId: null },
          };
          s = apply(s, e, defaultDomainConfig).state;
        }
        // Evaluated now, as the segmenter's timers keep them: memberships of today (lapsed, churned...).
        const state = evaluate(s as CustomerState, now, defaultDomainConfig).state;
        const keys = partitionKeys(prefix, partitionFor(id, PARTITIONS));
        pipeline.hset(keys.state, id, `1||${encodeState(state)}`);
        if (state.memberships.stage !== null) pipeline.sadd(keys.members('stage', state.memberships.stage), id);
      }
      await pipeline.exec();
    }
  });
} else {
  const customers = Number(mode ?? 100_000);
  const seed = Number(args[0] ?? 1);
  if (!Number.isSafeInteger(customers) || customers < 1 || !Number.isSafeInteger(seed)) {
    process.stderr.write('usage: measure-export.ts [customers=100000] [seed=1]\n');
    process.exit(2);
  }
  const prefix = `measure-export-${Date.now().toString(36)}`;
  const env = { ...process.env, CRM_KEY_PREFIX: prefix };
  const started = Date.now();
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--seed', prefix, String(customers), String(seed)], { env, stdio: 'inherit' });
  process.stderr.write(`seeded ${customers} customers under ${prefix} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  try {
    for (const extra of [[], ['--format', 'csv'], ['--where', 'stage=churned']]) {
      const err: string[] = [];
      const code = await run(['customers', 'export', '--out', '/dev/null', '--json', ...extra], {
        stdout: process.stdout,
        stderr: { write: (s: string) => err.push(s) },
        env,
        cwd: process.cwd(),
      });
      if (code !== 0) throw new Error(err.join(''));
      const summary = JSON.parse(err.join('').trim().split('\n').at(-1) as string) as ExportSummary;
      const rate = Math.round(summary.customers / summary.seconds);
      const rss = (process.resourceUsage().maxRSS / 1024).toFixed(0);
      const young = getHeapSpaceStatistics()
        .filter((s) => s.space_name === 'new_space')
        .map((s) => `${(s.space_size / 1_048_576).toFixed(0)} MB`)
        .join('');
      const heap = (process.memoryUsage().heapUsed / 1_048_576).toFixed(0);
      console.log(
        `export ${extra.join(' ') || '(jsonl)'}: ${summary.customers} customers in ${summary.seconds.toFixed(1)} s, ${rate} customers/s, ` +
          `peak RSS so far ${rss} MB (heap used ${heap} MB, young generation ${young})`,
      );
    }
  } finally {
    await withRedis({ ...config, keyPrefix: prefix }, async (redis) => {
      for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>)
        if (keys.length > 0) await redis.unlink(...keys);
    });
  }
}
