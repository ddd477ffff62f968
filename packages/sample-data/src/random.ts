/**
 * Seeded random numbers for the generator: a 32-bit PRNG (mulberry32) and the distributions
 * the generative story needs (exponential, normal, gamma, beta, binomial). Everything is
 * deterministic for a seed, so the same parameters always yield the same event log.
 */

/** mulberry32: a tiny, well-distributed 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit seed derived from a seed and a stream number (murmur3's finalizer over both), so
 * that each customer draws from its own stream: one customer's story does not depend on how
 * many others there are or in which order they are simulated.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Draws from the distributions of the generative story, all from one seeded stream. */
export class Random {
  private readonly next: () => number;
  /** The second normal of a Box-Muller pair, kept for the next call. */
  private spare: number | null = null;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform in the open interval (0, 1): safe under log() and as a base of fractional powers. */
  uniform(): number {
    for (;;) {
      const u = this.next();
      if (u > 0) return u;
    }
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.uniform()) * mean;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.next();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /**
   * Gamma with `shape` k and `rate` β (mean k/β), by Marsaglia and Tsang (2000), "A simple
   * method for generating gamma variables". Shapes below 1 use the boost
   * Gamma(k) = Gamma(k + 1) · U^(1/k).
   */
  gamma(shape: number, rate = 1): number {
    if (!(shape > 0) || !(rate > 0)) throw new RangeError(`gamma needs shape > 0 and rate > 0 (got ${shape}, ${rate})`);
    if (shape < 1) return this.gamma(shape + 1, rate) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      // The squeeze accepts ~98% of draws without a logarithm.
      if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
    }
  }

  /** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    // Both underflowing (tiny shapes) is possible in principle: fall back to the mean.
    return x + y > 0 ? x / (x + y) : a / (a + b);
  }

  /** Binomial(n, p) by n Bernoulli trials (n is small here: CSAT and NPS scales). */
  binomial(n: number, p: number): number {
    let k = 0;
    for (let i = 0; i < n; i++) if (this.next() < p) k++;
    return k;
  }

  /** One of `options`, drawn with probability proportional to its weight. */
  weighted<T extends string>(options: Readonly<Partial<Record<T, number>>>): T {
    const entries = (Object.entries(options) as Array<[T, number | undefined]>).filter((e): e is [T, number] => e[1] !== undefined && e[1] > 0);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let u = this.next() * total;
    for (const [value, w] of entries) {
      u -= w;
      if (u < 0) return value;
    }
    return (entries[entries.length - 1] as [T, number])[0];
  }
}
