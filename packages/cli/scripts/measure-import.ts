#!/usr/bin/env node
/**
 * Measures `crm import orders` on a generated retail export: rows/s and peak RSS of the
 * importing process. Not a test (timing is not asserted anywhere); run by hand against the
 * local infra:
 *
 *   node packages/cli/scripts/measure-import.ts [rows=500000] [seed=1]
 *
 * The CSV is generated (seeded) by a child process, so the measured process only imports.
 * Orders go to topics with their own suffix (CRM_TOPIC_SUFFIX, default .measure-<time>) so
 * the default topics stay untouched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportSummary } from '../src/index.ts';
import { run } from '../src/index.ts';
import { writeRetailCsv } from '../src/testing/retail-csv.ts';

const [mode, ...args] = process.argv.slice(2);
if (mode === '--generate') {
  const [file, rows, seed] = args;
  const expected = await writeRetailCsv(file as string, { rows: Number(rows), seed: Number(seed) });
  process.stdout.write(JSON.stringify(expected));
} else {
  const rows = Number(mode ?? 500_000);
  const seed = Number(args[0] ?? 1);
  const file = join(tmpdir(), `crm-retail-${rows}-${seed}.csv`);
  let expected: unknown = '(file existed; not regenerated)';
  if (!existsSync(file)) {
    expected = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--generate', file, String(rows), String(seed)], { encoding: 'utf8' }),
    );
  }
  const env = { ...process.env, CRM_TOPIC_SUFFIX: process.env['CRM_TOPIC_SUFFIX'] ?? `.measure-${Date.now().toString(36)}` };
  const quiet = { write: () => true };
  if ((await run(['topics', 'create'], { stdout: quiet, stderr: process.stderr, env, cwd: process.cwd() })) !== 0) process.exit(1);
  const out: string[] = [];
  const code = await run(['import', 'orders', file, '--json'], {
    stdout: { write: (s: string) => out.push(s) },
    stderr: process.stderr,
    env,
    cwd: process.cwd(),
  });
  if (code !== 0) process.exit(code);
  const summary = JSON.parse(out.join('')) as ImportSummary;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`file        ${file} (${(statSync(file).size / 1_048_576).toFixed(1)} MB, ${rows.toLocaleString('en-US')} rows, seed ${seed})`);
  console.log(`topic       ${summary.topic} (${summary.format})`);
  console.log(`rows/s      ${summary.rowsPerSecond.toLocaleString('en-US')} (${(summary.elapsedMs / 1000).toFixed(1)} s)`);
  console.log(`peak RSS    ${maxRssMb.toFixed(0)} MB`);
  console.log(`summary     ${JSON.stringify({ rows: summary.rows, orders: summary.orders, rowsInOrders: summary.rowsInOrders, skipped: summary.skipped })}`);
  console.log(`expected    ${JSON.stringify(expected)}`);
}
