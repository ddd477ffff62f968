import { describe, expect, it } from 'vitest';
import { cpuUsPerEvent, startEndRatio, windowRates } from './windows.ts';

describe('windowRates', () => {
  it('gives the rate of each complete window, interpolating between polls', () => {
    // 1,000 events/s for 5 s, then 500/s for 5 s, polled every second.
    const samples = Array.from({ length: 12 }, (_, i) => i * 1000).map((t) => ({ t, n: t <= 5000 ? t : 5000 + (t - 5000) / 2 }));
    expect(windowRates(samples, 5000)).toEqual([1000, 500]);
    // A steady 2,000/s polled off the window edges.
    expect(
      windowRates(
        [0, 3000, 7000, 12_000].map((t) => ({ t, n: t * 2 })),
        5000,
      ),
    ).toEqual([2000, 2000]);
  });

  it('drops the last partial window, and times from the first sample', () => {
    const samples = [
      { t: 100, n: 10 },
      { t: 5100, n: 20_010 },
      { t: 7100, n: 30_010 },
    ];
    expect(windowRates(samples, 5000)).toEqual([4000]);
  });

  it('gives one rate over a run shorter than a window, none without two samples', () => {
    expect(
      windowRates(
        [
          { t: 0, n: 0 },
          { t: 2000, n: 3000 },
        ],
        5000,
      ),
    ).toEqual([1500]);
    expect(windowRates([{ t: 0, n: 0 }], 5000)).toEqual([]);
    expect(windowRates([], 5000)).toEqual([]);
  });
});

describe('startEndRatio', () => {
  it('is the last window over the first', () => {
    expect(startEndRatio([20_000, 15_000, 12_000])).toBe(0.6);
    expect(startEndRatio([10_000, 10_000])).toBe(1);
  });

  it('is null without two windows or with a first window of nothing', () => {
    expect(startEndRatio([10_000])).toBeNull();
    expect(startEndRatio([0, 10])).toBeNull();
  });
});

describe('cpuUsPerEvent', () => {
  it('turns a share of a core over a run into microseconds per event', () => {
    // 80 % of a core for 10 s over 100,000 events: 8 s / 100,000 = 80 µs.
    expect(cpuUsPerEvent(80, 10, 100_000)).toBe(80);
    expect(cpuUsPerEvent(null, 10, 100_000)).toBeNull();
    expect(cpuUsPerEvent(50, 10, 0)).toBeNull();
  });
});
