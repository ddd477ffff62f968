import { describe, expect, it } from 'vitest';
import { partitionFor } from './partitioner.ts';

/** partitionFor as the CLI used it: murmur2 values of Kafka's own Java tests (UtilsTest.testMurmur2). */
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
];

describe('partitionFor', () => {
  it("is Java Kafka's default partitioner: toPositive(murmur2(key)) % partitions", () => {
    for (const [key, hash] of JAVA_MURMUR2) {
      for (const n of [1, 3, 6, 7, 12, 1024]) expect(partitionFor(key, n), `${key} / ${n}`).toBe((hash & 0x7fffffff) % n);
    }
  });
  it('hashes the UTF-8 bytes of the id', () => {
    expect(partitionFor('José', 6)).toBe(partitionFor('José', 6));
    expect(new Set(Array.from({ length: 600 }, (_, i) => partitionFor(`c${i}`, 6))).size).toBe(6);
  });
  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionFor('a', 0)).toThrow(RangeError);
  });
});
