import { describe, expect, it } from 'vitest';
import { duration, Progress } from './progress.ts';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('Progress', () => {
  it('redraws a bar in place on a terminal, with rate and ETA', () => {
    const c = clock();
    const written: string[] = [];
    const p = new Progress({ write: (s: string) => written.push(s), isTTY: true }, 10 * 1_048_576, c.now);
    p.update(1, 1);
    expect(written).toEqual([]); // not due yet
    c.advance(2_000);
    p.update(2 * 1_048_576, 20_000);
    expect(written).toEqual(['\r[#####...................]  20%  2.0/10.0 MB  10,000 rows/s  ETA 0:08\u001b[K']);
    p.done();
    expect(written.at(-1)).toBe('\r\u001b[K');
  });

  it('writes plain lines every few seconds when not a terminal', () => {
    const c = clock();
    const written: string[] = [];
    const p = new Progress({ write: (s: string) => written.push(s) }, 100, c.now);
    c.advance(1_000);
    p.update(10, 10);
    expect(written).toEqual([]);
    c.advance(5_000);
    p.update(50, 60);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/ 50% .* ETA 0:06\n$/);
    p.done();
    expect(written).toHaveLength(1);
  });

  it('counts other units: customers of a total', () => {
    const c = clock();
    const written: string[] = [];
    const units = { amount: (done: number, total: number) => `${done}/${total} customers`, noun: 'customers' };
    const p = new Progress({ write: (s: string) => written.push(s), isTTY: true }, 400, c.now, units);
    c.advance(2_000);
    p.update(100, 100);
    expect(written).toEqual(['\r[######..................]  25%  100/400 customers  50 customers/s  ETA 0:06\u001b[K']);
  });

  it('formats durations', () => {
    expect(duration(7.4)).toBe('0:07');
    expect(duration(3_725)).toBe('1:02:05');
    expect(duration(Number.NaN)).toBe('?');
  });
});
