import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

/** Releases events (times, in order) through one tick of `wallMs`; returns how many went. */
function tick(p: Pacer, wallMs: number, times: number[]): number {
  p.tick(wallMs);
  let n = 0;
  while (n < times.length && p.release(times[n] as number)) n++;
  p.settle(times[n] ?? null);
  times.splice(0, n);
  return n;
}

describe('Pacer', () => {
  it('advances simulated time by days per wall second and releases what is due', () => {
    const p = new Pacer(T0, 2, 1000);
    const times = [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY];
    expect(tick(p, 500, times)).toBe(1); // half a second: one simulated day
    expect(p.now()).toBe(T0 + DAY);
    expect(tick(p, 500, times)).toBe(1);
    expect(tick(p, 100, times)).toBe(0);
    expect(p.now()).toBe(T0 + 2.2 * DAY);
  });

  it('caps the rate, and simulated time waits at the first held event', () => {
    const p = new Pacer(T0, 10, 20); // 20 events a second at most
    const times = Array.from({ length: 100 }, (_, i) => T0 + i * 60_000); // 100 events within 2 simulated hours
    expect(tick(p, 500, times)).toBe(10); // half a second: 10 tokens
    // Five simulated days were due, but the clock stops where the traffic is.
    expect(p.now()).toBe(T0 + 10 * 60_000);
    expect(tick(p, 500, times)).toBe(10);
    expect(p.now()).toBe(T0 + 20 * 60_000);
  });

  it('saves up at most half a second of tokens while idle', () => {
    const p = new Pacer(T0, 1, 100);
    expect(tick(p, 10_000, [])).toBe(0);
    const times = Array.from({ length: 200 }, () => T0 + 11 * 1000 * DAY); // far ahead: not yet due
    expect(tick(p, 0, times)).toBe(0);
    const due = Array.from({ length: 200 }, () => p.now());
    expect(tick(p, 0, due)).toBe(50);
  });
});
