/** Percentiles of latency samples (nearest rank), in the units given. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(samples: number[]): Percentiles {
  const xs = Float64Array.from(samples).sort();
  const at = (q: number) => (xs.length === 0 ? Number.NaN : (xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))] as number));
  return { count: xs.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: xs.length === 0 ? Number.NaN : (xs[xs.length - 1] as number) };
}
