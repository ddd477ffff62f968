import fc from 'fast-check';
import { type PartitionMetadata, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyedPartitioner, murmur2, partitionFor } from './partitioner.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  it("matches Kafka's own test vectors (UtilsTest.testMurmur2)", () => {
    expect(murmur2(bytes('21'))).toBe(-973932308);
    expect(murmur2(bytes('foobar'))).toBe(-790332482);
    expect(murmur2(bytes('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(bytes('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
  });
});

describe('partitionFor', () => {
  // The producers of the input topics use kafkajs' default partitioner: the API must agree with it.
  const kafkajs = Partitioners.DefaultPartitioner();
  const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));

  it("agrees with kafkajs' DefaultPartitioner on any key (including non-ASCII) and partition count", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        expect(partitionFor(key, n)).toBe(kafkajs({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } }));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with kafkajs on keys longer than its scratch buffer, and on the keys after them', () => {
    const agrees = (key: string, n: number) =>
      expect(partitionFor(key, n), key.slice(0, 20)).toBe(kafkajs({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } }));
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 80, maxLength: 600 }),
        fc.string({ unit: 'grapheme', maxLength: 8 }),
        fc.integer({ min: 1, max: 64 }),
        (long, short, n) => {
          agrees(long, n);
          agrees('x'.repeat(long.length), n);
          agrees(short, n);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('keyedPartitioner', () => {
  it("puts every keyed record where kafkajs's DefaultPartitioner does", () => {
    const ours = keyedPartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 6, 7, 64]) {
      const partitionMetadata: PartitionMetadata[] = Array.from({ length: n }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: partitionId === 1 ? -1 : 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 500; i++) {
        const key = i % 5 === 0 ? `kunde-ü-${i}` : String(12_000 + i * 7);
        for (const message of [
          { key, value: null },
          { key: Buffer.from(key), value: null },
        ]) {
          expect(ours({ topic: 't', partitionMetadata, message }), `${key} over ${n}`).toBe(kafkajs({ topic: 't', partitionMetadata, message }));
        }
      }
      expect(ours({ topic: 't', partitionMetadata, message: { key: 'x', value: null, partition: 0 } })).toBe(0);
    }
  });
});
