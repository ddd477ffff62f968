import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeRfmSummaries, mergeSketches, quantileCuts, sketchCount, sketchOf, sketchQuantile, summarizeRfm } from './sketch.ts';

/** Exact value of rank floor(q (n - 1)). */
function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}
const values = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000_000 }), fc.double({ min: 0.001, max: 1e6, noNaN: true })), {
  minLength: 1,
  maxLength: 300,
});
const alphas = fc.constantFrom(0.001, 0.01, 0.05);
const quantiles = fc.double({ min: 0, max: 1, noNaN: true });

describe('quantile sketch', () => {
  it('answers every quantile within relative error alpha', () => {
    fc.assert(
      fc.property(values, alphas, quantiles, (vs, alpha, q) => {
        const est = sketchQuantile(sketchOf(vs, alpha), q) as number;
        const truth = exact(vs, q);
        // 1e-12 absorbs floating-point rounding of log() at bucket edges.
        expect(Math.abs(est - truth)).toBeLessThanOrEqual(alpha * truth * (1 + 1e-12) + 1e-12);
      }),
      { numRuns: 1000 },
    );
  });

  it('merging equals sketching the union, in any grouping', () => {
    fc.assert(
      fc.property(values, values, values, alphas, (a, b, c, alpha) => {
        const [sa, sb, sc] = [sketchOf(a, alpha), sketchOf(b, alpha), sketchOf(c, alpha)];
        const union = sketchOf([...a, ...b, ...c], alpha);
        const left = mergeSketches(mergeSketches(sa, sb), sc);
        const right = mergeSketches(sc, mergeSketches(sb, sa));
        for (const q of [0, 0.2, 0.5, 0.8, 1]) {
          expect(sketchQuantile(left, q)).toBe(sketchQuantile(union, q));
          expect(sketchQuantile(right, q)).toBe(sketchQuantile(union, q));
        }
        expect(sketchCount(left)).toBe(a.length + b.length + c.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects bad input', () => {
    expect(() => sketchOf([-1])).toThrow(RangeError);
    expect(() => sketchOf([Number.NaN])).toThrow(RangeError);
    expect(() => sketchOf([1], 1)).toThrow(RangeError);
    expect(() => mergeSketches(sketchOf([1], 0.01), sketchOf([1], 0.02))).toThrow(/different alpha/);
    expect(() => sketchQuantile(sketchOf([1]), 1.5)).toThrow(RangeError);
    expect(sketchQuantile(sketchOf([]), 0.5)).toBeNull();
  });

  it('turns a population into RFM quintile cuts, mergeable across partitions', () => {
    const customers = Array.from({ length: 1000 }, (_, i) => ({ recencyDays: i % 365, frequency: 1 + (i % 20), monetaryMinor: 1_000 * (1 + (i % 100)) }));
    const p0 = summarizeRfm(customers.slice(0, 400));
    const p1 = summarizeRfm([...customers.slice(400), { recencyDays: null, frequency: 0, monetaryMinor: 0 }]);
    const cuts = quantileCuts(mergeRfmSummaries(p0, p1));
    expect(cuts).not.toBeNull();
    expect(cuts?.f).toEqual([4, 8, 12, 16]);
    const recency = customers.map((c) => c.recencyDays);
    const monetary = customers.map((c) => c.monetaryMinor);
    [0.2, 0.4, 0.6, 0.8].forEach((q, i) => {
      // Within alpha of the exact quantile, plus 0.5 for rounding to an integer.
      expect(Math.abs((cuts?.r[i] ?? 0) - exact(recency, q))).toBeLessThanOrEqual(0.01 * exact(recency, q) + 0.5);
      expect(Math.abs((cuts?.m[i] ?? 0) - exact(monetary, q))).toBeLessThanOrEqual(0.01 * exact(monetary, q) + 0.5);
    });
    expect(quantileCuts(summarizeRfm([]))).toBeNull();
  });
});
