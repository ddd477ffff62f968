import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busyStretches } from './profile.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const url = 'file:///repo/services/segmenter/src/partition-worker.ts';
const frame = (functionName: string, u = '') => ({ functionName, url: u, lineNumber: 9 });

/** (root) > (idle); (root) > processBatch (ours) > writeBuffer (native); (root) > (garbage collector). */
function profile(samples: number[], deltaMicros: number): string {
  const file = join(dir, `${samples.join('')}.cpuprofile`);
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('processBatch', url), children: [4] },
        { id: 4, callFrame: frame('writeBuffer') },
        { id: 5, callFrame: frame('(garbage collector)') },
      ],
      startTime: 0,
      samples,
      timeDeltas: samples.map(() => deltaMicros),
    }),
  );
  return file;
}

describe('busyStretches', () => {
  it('finds the runs without an idle sample that last long enough, with our frames on their stacks', () => {
    // 1 ms samples: a 30 ms stretch (25 in writeBuffer under processBatch, 5 in GC), idle, a 5 ms stretch.
    const samples = [2, ...Array(25).fill(4), ...Array(5).fill(5), 2, 2, ...Array(5).fill(3), 2];
    const s = busyStretches(profile(samples, 1000), 20);
    expect(s.count).toBe(1);
    expect(s.longestMs).toBe(30);
    expect(s.totalMs).toBe(30);
    expect(s.functions).toEqual([{ frame: 'processBatch services/segmenter/src/partition-worker.ts:10', ms: 25, stretches: 1 }]);
    expect(s.byArea).toEqual([
      { area: 'native', ms: 25 },
      { area: 'GC', ms: 5 },
    ]);
  });

  it('keeps to a window of the profile clock', () => {
    const samples = [...Array(30).fill(4), 2, ...Array(30).fill(4)];
    const file = profile(samples, 1000);
    expect(busyStretches(file, 20).count).toBe(2);
    // Samples stamped 1 ms to 31 ms: only the first stretch.
    expect(busyStretches(file, 20, { fromMicros: 0, toMicros: 31_000 }).count).toBe(1);
  });
});
