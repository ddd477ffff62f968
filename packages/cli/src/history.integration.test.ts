/**
 * The journey of issue #14, as a new user takes it from the README, through the CLI in-process
 * on the real servers: a retail export (two years of invoices, some interleaved, some credit
 * notes) → `crm topics create` → `crm import orders` → `crm replay --as-of end` →
 * `crm customers export`. Every customer's exported line must equal a from-scratch computation
 * at the data's last event time: the events read back from the orders topic (not the import's
 * own assembly), folded per customer in reverse order with the pure domain, evaluated and read
 * at that instant, with the configured cuts (fixed scoring) or the quintiles of the population
 * at that instant (quantile scoring).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputEvent } from '@crm/contracts';
import { type DomainConfig, describe as describeState, evaluate, quantileCuts, readCustomer, summarizeRfm, withRfmCuts } from '@crm/domain';
import { foldByCustomer, isolatedEnv, latestEventTime } from '@crm/segmenter/testing';
import { partitionFor, readRfmCuts, readStreamClock } from '@crm/store';
import { testKafka, testRedis } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportSummary } from './commands/export.ts';
import type { ImportSummary } from './commands/import.ts';
import { type ReadingRow, readingRow } from './reading.ts';
import { run } from './run.ts';
import { captureIo } from './testing/io.ts';
import { readImportedOrders } from './testing/orders.ts';
import { writeRetailCsv } from './testing/retail-csv.ts';

const PARTITIONS = 3;
const dir = mkdtempSync(join(tmpdir(), 'crm-history-'));
const kafka = testKafka();
const redis = testRedis();
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

/** `crm <args>` in-process with `env`: its exit code must be 0; returns what it wrote. */
async function crm(env: Record<string, string>, args: string[]): Promise<{ out: string; err: string }> {
  const io = captureIo(env);
  expect(await run(args, io), `crm ${args.join(' ')}: ${io.err()}`).toBe(0);
  return { out: io.out(), err: io.err() };
}

/** `crm customers export --format jsonl --json [args]`: the lines by customer, and the summary. */
async function exportCustomers(env: Record<string, string>, args: string[]): Promise<{ rows: Map<string, ReadingRow>; summary: ExportSummary }> {
  const { out, err } = await crm(env, ['customers', 'export', '--format', 'jsonl', '--json', ...args]);
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ReadingRow);
  const rows = new Map(lines.map((r) => [r.customerId, r]));
  expect(rows.size, 'each customer exported once').toBe(lines.length);
  return { rows, summary: JSON.parse(err.trim().split('\n').at(-1) as string) as ExportSummary };
}

/** Each customer's export line computed from scratch: its events folded in reverse order, evaluated and read at `T` under `domain`. */
function fromScratch(events: readonly InputEvent[], T: number, domain: DomainConfig): Map<string, ReadingRow> {
  const folded = foldByCustomer([...events].reverse(), domain);
  return new Map([...folded].map(([id, state]) => [id, readingRow(readCustomer(evaluate(state, T, domain).state, T, domain), partitionFor(id, PARTITIONS))]));
}

/**
 * Every field of every customer where the export differs from the recomputation (none expected).
 * `evaluatedAt` is the stored state's own instant: the as-of run re-evaluates a customer only
 * when one of its thresholds falls due by the instant, so a customer with none keeps its last
 * evaluation (its memberships, compared, are the same at the instant); it must lie between the
 * customer's last purchase and the instant.
 */
function differences(expected: Map<string, ReadingRow>, got: Map<string, ReadingRow>): string[] {
  const out: string[] = [];
  for (const id of new Set([...expected.keys(), ...got.keys()])) {
    const e = expected.get(id);
    const g = got.get(id);
    if (e === undefined || g === undefined) {
      out.push(`${id}: ${e === undefined ? 'exported, not in the events' : 'in the events, not exported'}`);
      continue;
    }
    if (!(g.evaluatedAt >= (e.lastPurchaseAt as string) && g.evaluatedAt <= e.at))
      out.push(`${id} evaluatedAt: ${g.evaluatedAt} not in [${e.lastPurchaseAt}, ${e.at}]`);
    for (const field of Object.keys(e) as (keyof ReadingRow)[])
      if (field !== 'evaluatedAt' && JSON.stringify(e[field]) !== JSON.stringify(g[field]))
        out.push(`${id} ${field}: expected ${JSON.stringify(e[field])}, got ${JSON.stringify(g[field])}`);
  }
  return out;
}

/** `crm replay --as-of end` under a group and key prefix of its own (`name`); returns the environment that reads them. */
async function replayAsOfEnd(env: Record<string, string>, name: string, T: number, overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const group = `${env['CRM_GROUP_ID']}-${name}`;
  const prefix = `${env['CRM_KEY_PREFIX']}-${name}`;
  const runEnv = { ...env, CRM_GROUP_ID: group, CRM_KEY_PREFIX: prefix, ...overrides };
  const replayed = await crm(runEnv, ['replay', '--as-of', 'end', '--group', group, '--key-prefix', prefix]);
  expect(replayed.err).toContain(`replay: every customer evaluated as of ${new Date(T).toISOString()}, segmenter stopped`);
  expect(await readStreamClock(redis, prefix)).toBe(T);
  return runEnv;
}

describe('a retail export, replayed as of its end, exported', { timeout: 180_000 }, () => {
  const { env, config } = isolatedEnv({ CRM_PARTITIONS: String(PARTITIONS) });
  let events: InputEvent[];
  let T: number;

  beforeAll(async () => {
    await crm(env, ['topics', 'create', '--partitions', String(PARTITIONS)]);
    const file = join(dir, 'retail.csv');
    // ~5,000 lines, ~480 invoices of up to 300 customers over about two years; one order in ten has its last line after the next invoice.
    const expected = await writeRetailCsv(file, { rows: 5_000, seed: 14, customers: 300, maxGapMinutes: 4_500, interleave: 0.1 });
    const imported = JSON.parse((await crm(env, ['import', 'orders', file, '--json'])).out) as ImportSummary;
    expect({ orders: imported.orders, rowsInOrders: imported.rowsInOrders, creditNotes: imported.skipped.credit_note }).toEqual({
      orders: expected.orders,
      rowsInOrders: expected.rowsInOrders,
      creditNotes: expected.skipped.credit_note,
    });
    expect(expected.skipped.credit_note).toBeGreaterThan(0);
    events = await readImportedOrders(kafka, env['SCHEMA_REGISTRY_URL'] as string, config.topics.orders);
    expect(events).toHaveLength(expected.orders);
    T = latestEventTime(events);
    // About two years of history.
    expect(T - Math.min(...events.map((e) => Date.parse(e.time)))).toBeGreaterThan(600 * 86_400_000);
  });

  it('fixed scoring: every customer exported at the last event time equals its from-scratch computation there', async () => {
    const runEnv = await replayAsOfEnd(env, 'fixed', T);
    const at = new Date(T).toISOString();

    const { rows, summary } = await exportCustomers(runEnv, ['--at', at]);
    expect(summary).toMatchObject({ at, atSource: 'query', cuts: 'configured cuts', partitions: PARTITIONS });
    const expected = fromScratch(events, T, config.domain);
    expect(rows.size).toBe(new Set(events.map((e) => e.subject)).size);
    expect(rows.size).toBeGreaterThan(200);
    expect(differences(expected, rows)).toEqual([]);
    // The check has teeth: the customers spread over segments and stages.
    expect(new Set([...expected.values()].map((r) => r.rfmSegment)).size).toBeGreaterThan(3);
    expect(new Set([...expected.values()].map((r) => r.stage)).size).toBeGreaterThan(2);

    // Without --at, on the deployment's stream clock, the export reads at the same instant.
    const streamed = await exportCustomers({ ...runEnv, CRM_CLOCK: 'stream' }, []);
    expect(streamed.summary).toMatchObject({ at, atSource: 'stream_clock' });
    expect(differences(expected, streamed.rows)).toEqual([]);
  });

  it("quantile scoring: the stored cuts are the population's quintiles at the last event time, and every customer is the recomputation's under them", async () => {
    const runEnv = await replayAsOfEnd(env, 'quantile', T, { CRM_SCORING: 'quantile' });
    const stored = await readRfmCuts(redis, runEnv['CRM_KEY_PREFIX'] as string);
    expect(stored).not.toBeNull();
    const cuts = stored?.cuts ?? config.domain.rfm.cuts;
    expect(cuts).not.toEqual(config.domain.rfm.cuts);
    const domain = withRfmCuts(config.domain, cuts);
    const atT = [...foldByCustomer(events, domain).values()].map((s) => describeState(evaluate(s, T, domain).state, domain));
    expect(quantileCuts(summarizeRfm(atT))).toEqual(cuts);

    const at = new Date(T).toISOString();
    const { rows, summary } = await exportCustomers(runEnv, ['--at', at]);
    expect(summary).toMatchObject({ at, cuts: expect.stringContaining('stored quantile cuts') });
    expect(differences(fromScratch(events, T, domain), rows)).toEqual([]);
  });
});

describe('the same export with --credit-notes refund', { timeout: 180_000 }, () => {
  const { env, config } = isolatedEnv({ CRM_PARTITIONS: String(PARTITIONS) });

  it("takes each matched return off its customer's figures: every customer equals the from-scratch fold of orders and refunds at the last event time", async () => {
    await crm(env, ['topics', 'create', '--partitions', String(PARTITIONS)]);
    const file = join(dir, 'retail-returns.csv');
    await writeRetailCsv(file, { rows: 5_000, seed: 15, customers: 300, maxGapMinutes: 4_500, interleave: 0.1, returns: true });
    const imported = JSON.parse((await crm(env, ['import', 'orders', file, '--credit-notes', 'refund', '--json'])).out) as ImportSummary;
    expect(imported.refunds).toBeGreaterThan(5);
    const events = await readImportedOrders(kafka, env['SCHEMA_REGISTRY_URL'] as string, config.topics.orders);
    expect(events.filter((e) => e.type === 'commerce.order.refunded')).toHaveLength(imported.refunds);
    const T = latestEventTime(events);
    const runEnv = await replayAsOfEnd(env, 'refund', T);
    const { rows } = await exportCustomers(runEnv, ['--at', new Date(T).toISOString()]);
    const expected = fromScratch(events, T, config.domain);
    expect(differences(expected, rows)).toEqual([]);
    // The refunds count: some customer's lifetime net is below what its orders paid.
    const paid = new Map<string, number>();
    for (const e of events) if (e.type === 'commerce.order.completed') paid.set(e.subject, (paid.get(e.subject) ?? 0) + e.data.amountMinor);
    expect([...expected.values()].filter((r) => r.lifetimeNetMinor < (paid.get(r.customerId) ?? 0)).length).toBeGreaterThan(5);
  });
});
