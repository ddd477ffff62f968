/**
 * Reads against a segmenter in quantile scoring mode (stream clock, so the cuts settle once
 * every event is applied): `crm customer show` scores with the stored cuts, as the segmenter
 * did for the index; `crm customers export` writes every customer exactly once with the fields
 * a from-scratch fold derives at the export's instant, as JSON lines or CSV, and `--where`
 * returns exactly a segment's members.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CustomerState, DAY_MS, MEMBERSHIP_FIELD, apply, describe as describeState, readCustomer, withRfmCuts } from '@crm/domain';
import { type StoredCuts, partitionFor, partitionKeys } from '@crm/store';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READING_COLUMNS, type ReadingRow, readingRow } from './reading.ts';
import { run } from './run.ts';
import { captureIo } from './testing/io.ts';
import { QUANTILE_PARTITIONS as PARTITIONS, quantileCustomers } from './testing/quantile.ts';

describe('crm customer show and crm customers export (quantile scoring)', { timeout: 240_000 }, () => {
  const q = quantileCustomers();
  const { f, env, events, stored } = q;
  const dir = dirname(q.domainConfigPath);
  let cuts: StoredCuts;

  beforeAll(async () => {
    await q.setup();
    cuts = q.cuts();
  });
  /** `crm customers export <args>` as JSON lines, and what it wrote on stderr. */
  const exportLines = async (args: string[]): Promise<{ rows: ReadingRow[]; err: string }> => {
    const io = captureIo(env);
    expect(await run(['customers', 'export', ...args], io), io.err()).toBe(0);
    const text = io.out().trim();
    return { rows: text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as ReadingRow), err: io.err() };
  };
  afterAll(() => q.close());

  it('shows the scores the index holds: the stored quantile cuts, not the configured ones', async () => {
    expect(cuts).not.toBeNull();
    expect(cuts.cuts).not.toEqual(f.config.domain.rfm.cuts);
    const inForce = withRfmCuts(f.config.domain, cuts.cuts);
    const ids = [...stored.keys()].sort().slice(0, 12);
    let differFromConfigured = 0;
    for (const id of ids) {
      const state = stored.get(id) as CustomerState;
      const io = captureIo(env);
      expect(await run(['customer', 'show', id, '--json', '--at', new Date(state.asOf).toISOString()], io), io.err()).toBe(0);
      const report = JSON.parse(io.out());
      expect(report).toMatchObject({
        customerId: id,
        partition: partitionFor(id, PARTITIONS),
        atSource: '--at',
        cuts: expect.stringContaining('stored quantile cuts'),
      });
      // Memberships: the index's sets hold the customer under each value the CLI prints.
      expect(report.memberships).toEqual(state.memberships);
      const keys = partitionKeys(f.config.keyPrefix, report.partition);
      for (const [dimension, field] of Object.entries(MEMBERSHIP_FIELD)) {
        const value = state.memberships[field];
        if (value !== null) expect(await f.redis.sismember(keys.members(dimension, value), id), `${id} ${dimension}=${value}`).toBe(1);
      }
      for (const name of state.memberships.custom) expect(await f.redis.sismember(keys.members('custom', name), id)).toBe(1);
      // Scores: those from which the segmenter derived the stored RFM segment.
      const segmenterView = describeState(state, inForce);
      expect(segmenterView.memberships.rfmSegment).toBe(state.memberships.rfmSegment);
      expect(report.reasons).toEqual(segmenterView.reasons);
      expect({ r: report.fields.r, f: report.fields.f, m: report.fields.m }).toEqual({ r: segmenterView.r, f: segmenterView.f, m: segmenterView.m });
      const configured = describeState(state, f.config.domain);
      if (configured.r !== segmenterView.r || configured.f !== segmenterView.f || configured.m !== segmenterView.m) differFromConfigured++;
    }
    // The check has teeth: the configured cuts would have printed other scores.
    expect(differFromConfigured).toBeGreaterThan(0);
  });

  it('says which instant it derived at: --at, else the wall clock', async () => {
    const id = [...stored.keys()].sort()[0] as string;
    const at = new Date((stored.get(id) as CustomerState).asOf + 40 * DAY_MS).toISOString();
    const io = captureIo(env);
    expect(await run(['customer', 'show', id, '--at', at], io)).toBe(0);
    expect(io.out()).toContain(`derived fields        as of ${at} (--at)`);
    expect(io.out()).toMatch(/memberships\s+as the segment index holds them \(evaluated /);
    const wall = captureIo(env);
    expect(await run(['customer', 'show', id], wall)).toBe(0);
    expect(wall.out()).toMatch(/derived fields\s+as of \S+ \(wall clock\)/);
    const bad = captureIo(env);
    expect(await run(['customer', 'show', id, '--at', 'yesterday'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--at must be an ISO-8601 UTC instant/);
  });

  it('exports every customer once, with the fields a from-scratch fold derives at --at, as JSON lines and CSV', async () => {
    const T = Math.max(...[...stored.values()].map((s) => s.asOf)) + 10 * DAY_MS;
    const at = new Date(T).toISOString();
    const { rows, err } = await exportLines(['--at', at]);
    expect(rows.map((r) => r.customerId).sort()).toEqual([...stored.keys()].sort());
    expect(new Set(rows.map((r) => r.customerId)).size).toBe(rows.length);
    expect(err).toMatch(new RegExp(`exported ${stored.size} customer\\(s\\) from ${PARTITIONS} partition\\(s\\) .* as of ${at} \\(--at\\)`));

    const inForce = withRfmCuts(f.config.domain, cuts.cuts);
    const byCustomer = Map.groupBy(events, (e) => e.subject);
    for (const row of rows) {
      let scratch: CustomerState | null = null;
      for (const e of byCustomer.get(row.customerId) ?? []) scratch = apply(scratch, e, inForce).state;
      const expected = readingRow(readCustomer(scratch as CustomerState, T, inForce), partitionFor(row.customerId, PARTITIONS));
      const state = stored.get(row.customerId) as CustomerState;
      // Fields from scratch at T; memberships and their instant as stored.
      expect(row).toEqual(JSON.parse(JSON.stringify({ ...expected, ...membershipsOf(state), evaluatedAt: new Date(state.asOf).toISOString() })));
    }

    const file = join(dir, 'customers.csv');
    const csv = captureIo(env);
    expect(await run(['customers', 'export', '--format', 'csv', '--at', at, '--out', file], csv)).toBe(0);
    expect(csv.out()).toBe('');
    const records = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0] ?? {})).toEqual([...READING_COLUMNS]);
    expect(records).toEqual(rows.map(asCsv));
  });

  it('--where returns exactly the members the segment index holds', async () => {
    const { rows: all } = await exportLines([]);
    const stages = Map.groupBy(all, (r) => r.stage);
    const [stage] = [...stages.entries()].sort((a, b) => b[1].length - a[1].length)[0] as [string, ReadingRow[]];
    const rfm = (all.find((r) => r.rfmSegment !== null) as ReadingRow).rfmSegment as string;
    for (const [where, dimension, value] of [
      [`stage=${stage}`, 'stage', stage],
      [`rfmSegment=${rfm.toUpperCase()}`, 'rfm_segment', rfm],
      ['custom=big_spender', 'custom', 'big_spender'],
    ] as const) {
      const members: string[] = [];
      for (let p = 0; p < PARTITIONS; p++) members.push(...(await f.redis.smembers(partitionKeys(f.config.keyPrefix, p).members(dimension, value))));
      expect(members.length, where).toBeGreaterThan(0);
      const { rows, err } = await exportLines(['--where', where]);
      expect(rows.map((r) => r.customerId).sort(), where).toEqual(members.sort());
      expect(err).toContain(`in ${dimension}=${value} (the segment index)`);
    }
    const bad = captureIo(env);
    expect(await run(['customers', 'export', '--where', 'stage=gold'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--where stage: unknown value "gold" \(one of prospect, new, /);
  });

  it('stops quietly when the reader goes away (a closed pipe: | head)', async () => {
    const io = captureIo(env);
    const pipe = new EventEmitter();
    let writes = 0;
    // A full pipe whose reader then closes it: the export waits for drain, gets EPIPE, stops.
    const stdout = Object.assign(pipe, {
      write: () => {
        writes++;
        setImmediate(() => pipe.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
        return false;
      },
    });
    expect(await run(['customers', 'export', '--where', 'custom=big_spender'], { ...io, stdout })).toBe(0);
    expect(writes).toBe(1);
    expect(io.err()).toMatch(/^output closed: stopped after \d+ customer\(s\)/);
  });
});

function membershipsOf(s: CustomerState) {
  const { rfmSegment, stage, tier, satisfaction, expectationGap, quadrant, custom } = s.memberships;
  return { rfmSegment, stage, tier, satisfaction, expectationGap, quadrant, custom };
}

/** A JSON line as its CSV record reads back: text cells, null empty, custom segments joined by ';'. */
function asCsv(row: ReadingRow): Record<string, string> {
  return Object.fromEntries(
    READING_COLUMNS.map((c) => {
      const v = row[c];
      return [c, v === null ? '' : Array.isArray(v) ? v.join(';') : String(v)];
    }),
  );
}
