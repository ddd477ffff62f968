import { describe, expect, it } from 'vitest';
import { type CommittedOffset, type PartitionBounds, computeLagRows, probeKey, probeTargets } from './lag.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const ends = new Map<string, PartitionBounds[]>([
  [
    'orders',
    [
      { partition: 0, low: 0, high: 100 },
      { partition: 1, low: 40, high: 90 },
      { partition: 2, low: 0, high: 7 },
    ],
  ],
]);
const committed = (partition: number, offset: number, group = 'crm-segmenter'): CommittedOffset => ({ group, topic: 'orders', partition, offset });

describe('lag rows', () => {
  it('lag in messages is the log-end offset minus the committed offset; in seconds, the age of the record at the committed offset', () => {
    const timestamps = new Map([[probeKey('orders', 0, 60), NOW - 90_000]]);
    expect(computeLagRows([committed(0, 60)], ends, timestamps, NOW)).toEqual([
      {
        group: 'crm-segmenter',
        topic: 'orders',
        partition: 0,
        committedOffset: 60,
        endOffset: 100,
        lagMessages: 40,
        lagSeconds: 90,
        oldestUnconsumedTimestamp: NOW - 90_000,
      },
    ]);
  });

  it('a group that has consumed everything lags 0 messages and 0 seconds, whatever the timestamps', () => {
    const [row] = computeLagRows([committed(2, 7)], ends, new Map(), NOW);
    expect(row).toMatchObject({ lagMessages: 0, lagSeconds: 0, oldestUnconsumedTimestamp: null });
  });

  it('the lag in seconds is unknown (null), not 0, when the record could not be read', () => {
    const [row] = computeLagRows([committed(0, 10)], ends, new Map(), NOW);
    expect(row).toMatchObject({ lagMessages: 90, lagSeconds: null });
  });

  it('when retention deleted the records at the committed offset, the oldest unconsumed one is the first record left', () => {
    expect(probeTargets([committed(1, 5)], ends)).toEqual([{ topic: 'orders', partition: 1, offset: 40, end: 90 }]);
    const [row] = computeLagRows([committed(1, 5)], ends, new Map([[probeKey('orders', 1, 40), NOW - 1000]]), NOW);
    // Messages counted as Kafka's tool counts them: from the committed offset.
    expect(row).toMatchObject({ lagMessages: 85, lagSeconds: 1 });
  });

  it('a record stamped in the future is no older than now; a committed offset past a truncated log is no lag', () => {
    const [future] = computeLagRows([committed(0, 99)], ends, new Map([[probeKey('orders', 0, 99), NOW + 5000]]), NOW);
    expect(future?.lagSeconds).toBe(0);
    const [past] = computeLagRows([committed(2, 9)], ends, new Map(), NOW);
    expect(past).toMatchObject({ lagMessages: 0, lagSeconds: 0 });
  });

  it('asks for one record per lagging partition and offset, shared by groups at the same offset', () => {
    const targets = probeTargets([committed(0, 60, 'a'), committed(0, 60, 'b'), committed(0, 70, 'c'), committed(2, 7, 'a')], ends);
    expect(targets).toEqual([
      { topic: 'orders', partition: 0, offset: 60, end: 100 },
      { topic: 'orders', partition: 0, offset: 70, end: 100 },
    ]);
  });

  it('skips partitions of unknown bounds and sorts rows by group, topic and partition', () => {
    const rows = computeLagRows([committed(1, 50, 'b'), committed(0, 100, 'b'), committed(0, 100, 'a'), committed(9, 1, 'a')], ends, new Map(), NOW);
    expect(rows.map((r) => `${r.group}/${r.partition}`)).toEqual(['a/0', 'b/0', 'b/1']);
  });
});
