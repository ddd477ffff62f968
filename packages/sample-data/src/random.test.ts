import { describe, expect, it } from 'vitest';
import { Random, deriveSeed, mulberry32 } from './random.ts';

const N = 100_000;

function moments(draw: () => number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < N; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / N;
  return { mean, variance: s2 / N - mean * mean };
}

describe('Random', () => {
  it('is deterministic per seed, and derived streams differ', () => {
    const a = mulberry32(9);
    const b = mulberry32(9);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(2, 0));
    expect(deriveSeed(1, 5)).toBe(deriveSeed(1, 5));
  });

  // Tolerances are ~5 standard errors of N draws.
  it.each([
    [0.243, 4.414],
    [1, 2],
    [6.25, 1],
    [3.74, 15.44],
  ])('gamma(shape %d, rate %d) has mean k/β and variance k/β²', (k, beta) => {
    const rng = new Random(11);
    const { mean, variance } = moments(() => rng.gamma(k, beta));
    const sd = Math.sqrt(k) / beta;
    expect(Math.abs(mean - k / beta)).toBeLessThan((5 * sd) / Math.sqrt(N));
    expect(variance / (k / beta ** 2)).toBeGreaterThan(0.9);
    expect(variance / (k / beta ** 2)).toBeLessThan(1.1);
  });

  it('beta(a, b) has mean a/(a+b) and stays in (0, 1)', () => {
    const rng = new Random(12);
    const [a, b] = [0.793, 2.426];
    let min = 1;
    let max = 0;
    const { mean, variance } = moments(() => {
      const x = rng.beta(a, b);
      min = Math.min(min, x);
      max = Math.max(max, x);
      return x;
    });
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(mean - a / (a + b))).toBeLessThan(0.005);
    expect(variance).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 2);
  });

  it('exponential, binomial and weighted choices have their means', () => {
    const rng = new Random(13);
    expect(moments(() => rng.exponential(3)).mean).toBeCloseTo(3, 1);
    expect(moments(() => rng.binomial(10, 0.7)).mean).toBeCloseTo(7, 1);
    let a = 0;
    for (let i = 0; i < N; i++) if (rng.weighted({ a: 3, b: 1 }) === 'a') a++;
    expect(a / N).toBeCloseTo(0.75, 2);
  });
});
