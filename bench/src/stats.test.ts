import { describe, expect, it } from 'vitest';
import { percentiles, tailShape } from './stats.ts';

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});

describe('tailShape', () => {
  it('places the slow events by partition and by second of sending', () => {
    const samples = [
      { sentAt: 1000, ms: 10, partition: 0 },
      { sentAt: 1100, ms: 300, partition: 1 },
      { sentAt: 1500, ms: 250, partition: 2 },
      { sentAt: 2200, ms: 20, partition: 1 },
      { sentAt: 3900, ms: 400, partition: 1 },
    ];
    expect(tailShape(samples, 100, 3)).toEqual({
      thresholdMs: 100,
      slow: 3,
      byPartition: [0, 2, 1],
      secondsWithSlow: 2,
      seconds: 3,
      worst: [
        [0, 2, 2, 300],
        [2, 1, 1, 400],
      ],
    });
  });

  it('is empty without samples', () => {
    expect(tailShape([], 100, 2)).toEqual({ thresholdMs: 100, slow: 0, byPartition: [0, 0], secondsWithSlow: 0, seconds: 0, worst: [] });
  });
});
