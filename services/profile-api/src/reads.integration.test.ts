/**
 * Member paging against real Redis, on sets written directly (no segmenter): large sets
 * (hash-table encoded, many SSCAN calls), small ones (returned whole by one SSCAN, so pages end
 * inside a reply), an empty partition, and sets that change while a client pages.
 */
import { partitionKeys } from '@crm/store';
import { testRedis, uniqueName } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type MemberCursor, START, decodeCursor, encodeCursor } from './cursor.ts';
import { type Page, readMemberPage } from './reads.ts';

const PARTITIONS = 3;
const redis = testRedis();
afterAll(() => redis.quit());

const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(4, '0')}`);
const numeric = (n: number) => Array.from({ length: n }, (_, i) => String(1000 + i));

async function fill(prefix: string, sets: string[][]): Promise<void> {
  const pipeline = redis.pipeline();
  sets.forEach((members, p) => {
    if (members.length > 0) pipeline.sadd(partitionKeys(prefix, p).members('stage', 'new'), ...members);
  });
  await pipeline.exec();
}

/** Pages through the segment, calling `between` after each page; the cursor goes through its text form like a client's. */
async function walk(prefix: string, limit: number, between: (n: number, page: Page) => Promise<void> = async () => undefined): Promise<Page[]> {
  const pages: Page[] = [];
  let at: MemberCursor | null = START;
  while (at !== null) {
    const page: Page = await readMemberPage(redis, prefix, PARTITIONS, 'stage', 'new', limit, at);
    pages.push(page);
    expect(page.members.length).toBeLessThanOrEqual(limit);
    expect(new Set(page.members).size).toBe(page.members.length);
    at = page.next === null ? null : decodeCursor(encodeCursor(page.next), PARTITIONS);
    await between(pages.length, page);
    expect(pages.length).toBeLessThan(10_000);
  }
  return pages;
}

describe('segment member paging', () => {
  it.each([1, 7, 200, 1000])('returns every member of a static segment exactly once (limit %i)', async (limit) => {
    const prefix = uniqueName('api-reads');
    // Partition 0 is a hash table of many SSCAN replies; 1 holds numeric ids, an intset (or
    // listpack) that SSCAN returns whole whatever COUNT says; 2 is empty.
    const sets = [ids('a', 600), numeric(9), []];
    await fill(prefix, sets);
    const pages = await walk(prefix, limit);
    const all = pages.flatMap((p) => p.members);
    expect(all.length).toBe(609);
    expect(new Set(all)).toEqual(new Set(sets.flat()));
    if (limit === 7) expect(pages.some((p) => p.members.some((m) => m.startsWith('a')) && p.members.some((m) => /^\d+$/.test(m)))).toBe(true);
  });

  it('answers an empty segment with one empty last page', async () => {
    const pages = await walk(uniqueName('api-reads'), 10);
    expect(pages).toEqual([{ members: [], next: null }]);
  });

  it('never skips a member present throughout while members come and go between pages', async () => {
    const prefix = uniqueName('api-reads');
    const stable = [ids('s0', 700), numeric(60).slice(40), ids('s2', 300)];
    const churn = [ids('c0', 400), numeric(40), ids('c2', 100)];
    await fill(
      prefix,
      stable.map((s, p) => [...s, ...(churn[p] as string[])]),
    );
    const added: string[] = [];
    let grown = false;
    const pages = await walk(prefix, 13, async (n, page) => {
      // Remove a churning member and add a new one in every partition after each page. When a
      // page ends inside partition 1's whole-set reply (an intset), grow that set past the
      // small-encoding limit: the next page resumes on a hash table.
      const grow = !grown && page.next?.p === 1 && page.next.after !== null;
      const pipeline = redis.pipeline();
      for (let p = 0; p < PARTITIONS; p++) {
        const key = partitionKeys(prefix, p).members('stage', 'new');
        const gone = churn[p]?.[n];
        if (gone !== undefined) pipeline.srem(key, gone);
        const fresh = p === 1 ? String(5000 + n) : `n${p}-${n}`;
        added.push(fresh);
        pipeline.sadd(key, fresh);
        if (grow && p === 1) {
          grown = true;
          const many = ids('g1', 600);
          added.push(...many);
          pipeline.sadd(key, ...many);
        }
      }
      await pipeline.exec();
    });
    expect(grown).toBe(true);
    const seen = new Set(pages.flatMap((p) => p.members));
    for (const m of stable.flat()) expect(seen.has(m), m).toBe(true);
    const possible = new Set([...stable.flat(), ...churn.flat(), ...added]);
    for (const m of seen) expect(possible.has(m), m).toBe(true);
  });
});
