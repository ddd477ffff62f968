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

/** One measured event: when it was sent (ms), its latency (ms) and its partition. */
export interface Sample {
  sentAt: number;
  ms: number;
  partition: number;
}

/**
 * Where a latency tail sits: the events slower than `thresholdMs`, by partition and by second
 * of sending. Stalls of the whole process (GC, a blocked loop, a starved CPU) slow every
 * partition in the same seconds; one partition's queue behind a long unit of work slows that
 * partition alone.
 */
export interface TailShape {
  thresholdMs: number;
  slow: number;
  /** Slow events per partition. */
  byPartition: number[];
  /** Seconds (from the first send) with at least one slow event, of `seconds` in all. */
  secondsWithSlow: number;
  seconds: number;
  /** The seconds with the most slow events: [second, slow events, partitions among them, max ms]. */
  worst: Array<[number, number, number, number]>;
}

export function tailShape(samples: readonly Sample[], thresholdMs: number, partitions: number): TailShape {
  const start = samples.reduce((a, s) => Math.min(a, s.sentAt), Number.POSITIVE_INFINITY);
  const end = samples.reduce((a, s) => Math.max(a, s.sentAt), Number.NEGATIVE_INFINITY);
  const byPartition = new Array<number>(partitions).fill(0);
  const bySecond = new Map<number, { n: number; parts: Set<number>; max: number }>();
  let slow = 0;
  for (const s of samples) {
    if (s.ms <= thresholdMs) continue;
    slow++;
    byPartition[s.partition] = (byPartition[s.partition] ?? 0) + 1;
    const sec = Math.floor((s.sentAt - start) / 1000);
    const b = bySecond.get(sec) ?? { n: 0, parts: new Set<number>(), max: 0 };
    b.n++;
    b.parts.add(s.partition);
    b.max = Math.max(b.max, s.ms);
    bySecond.set(sec, b);
  }
  return {
    thresholdMs,
    slow,
    byPartition,
    secondsWithSlow: bySecond.size,
    seconds: samples.length === 0 ? 0 : Math.floor((end - start) / 1000) + 1,
    worst: [...bySecond]
      .sort((a, b) => b[1].n - a[1].n || a[0] - b[0])
      .slice(0, 10)
      .map(([sec, b]) => [sec, b.n, b.parts.size, b.max]),
  };
}
