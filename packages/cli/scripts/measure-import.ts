#!/usr/bin/env node
/**
 * Measures `crm import orders` on a generated retail export: rows/s and peak RSS of the
 * importing process, and the size of V8's young generation at the end (it grows in steps while
 * enough survives its scavenges, ~35 MB of RSS for the first step: compare it between file sizes
 * when the peak differs; `node --trace-gc-nvp` shows what survives each scavenge). Not a test
 * (timing is not asserted anywhere); run by hand against the local infra:
 *
 *   node packages/cli/scripts/measure-import.ts [rows=500000] [seed=1]
 *
 * Results (500k, 2M, 4M rows): packages/cli/README.md, "Memory: flat in the file size".
 * The CSV is generated (seeded) and the topics are created by child processes, so the measured
 * process only imports (through `run`, as `crm import orders` does).
 * Orders go to topics with their own suffix (CRM_TOPIC_SUFFIX, default .measure-<time>) so
 * the default topics stay untouched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import type { ImportSummary } from '../src/commands/import.ts';
import { run } from '../src/run.ts';
import { writeRetailCsv } from '../src/testing/retail-csv.ts';

const [mode, ...args] = process.argv.slice(2);
if (mode === '--topics') {
  process.exitCode = await run(['topics', 'create'], { stdout: { write: () => true }, stderr: process.stderr, env: process.env, cwd: process.cwd() });
} else if (mode === '--generate') {
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
  // The topics are created by a child process too: the measured process only imports.
  try {
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--topics'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    process.exit(1);
  }
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
  const newSpaceMb = (getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0) / 1_048_576;
  console.log(`young gen   ${newSpaceMb.toFixed(0)} MB at the end (V8 new space: two ${(newSpaceMb / 2).toFixed(0)} MB semi-spaces)`);
  console.log(`summary     ${JSON.stringify({ rows: summary.rows, orders: summary.orders, rowsInOrders: summary.rowsInOrders, skipped: summary.skipped })}`);
  console.log(`expected    ${JSON.stringify(expected)}`);
}
