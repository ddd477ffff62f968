/**
 * A mergeable quantile summary (DDSketch-style log buckets) and the RFM quantile cuts
 * computed from it. The service summarizes each partition's customers, merges the summaries
 * (adding bucket counts) and feeds `quantileCuts` into `DomainConfig.rfm.cuts`.
 *
 * Error bound: for a sketch with relative accuracy alpha, `sketchQuantile(s, q)` returns a
 * value v^ with |v^ - v| <= alpha * v, where v is the exact value of rank floor(q * (n - 1))
 * (0-based) among the n values added (0 is exact). Merging keeps the bound: a merged
 * sketch equals the sketch of the union of values.
 */
import type { RfmCuts } from './config.ts';

/** Plain JSON data, so partitions can ship it anywhere. Bucket i holds values in (gamma^(i-1), gamma^i]. */
export interface QuantileSketch {
  readonly alpha: number;
  /** Count of zeros (exact). */
  readonly zero: number;
  /** Bucket index (as a string key) -> count. */
  readonly buckets: Readonly<Record<string, number>>;
}

/** 1% relative accuracy: about 1,040 buckets at most for values up to 10^9, a few KB of JSON. */
export const DEFAULT_SKETCH_ALPHA = 0.01;

function gammaOf(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  return (1 + alpha) / (1 - alpha);
}

/** Builds a sketch of non-negative finite values in one pass. */
export function sketchOf(values: Iterable<number>, alpha: number = DEFAULT_SKETCH_ALPHA): QuantileSketch {
  const logGamma = Math.log(gammaOf(alpha));
  let zero = 0;
  const buckets: Record<string, number> = {};
  for (const v of values) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`sketch values must be finite and >= 0, got ${v}`);
    if (v === 0) {
      zero++;
      continue;
    }
    const i = String(Math.ceil(Math.log(v) / logGamma));
    buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return { alpha, zero, buckets };
}

/** Union of two sketches with the same alpha (bucket counts add). Associative and commutative. */
export function mergeSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  if (a.alpha !== b.alpha) throw new RangeError(`cannot merge sketches of different alpha (${a.alpha} and ${b.alpha})`);
  const buckets: Record<string, number> = { ...a.buckets };
  for (const [i, n] of Object.entries(b.buckets)) buckets[i] = (buckets[i] ?? 0) + n;
  return { alpha: a.alpha, zero: a.zero + b.zero, buckets };
}

export function sketchCount(s: QuantileSketch): number {
  let n = s.zero;
  for (const c of Object.values(s.buckets)) n += c;
  return n;
}

/** The q-quantile (0 <= q <= 1) within relative error alpha, or null for an empty sketch. */
export function sketchQuantile(s: QuantileSketch, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`);
  const n = sketchCount(s);
  if (n === 0) return null;
  const rank = Math.floor(q * (n - 1));
  if (rank < s.zero) return 0;
  const gamma = gammaOf(s.alpha);
  let seen = s.zero;
  const indexes = Object.keys(s.buckets)
    .map(Number)
    .sort((x, y) => x - y);
  for (const i of indexes) {
    seen += s.buckets[String(i)] ?? 0;
    if (seen > rank) return (2 * gamma ** i) / (gamma + 1);
  }
  /* c8 ignore next */
  throw new Error('unreachable: rank beyond count');
}

/** One sketch per RFM input, over the customers that have bought at least once. */
export interface RfmSummary {
  readonly r: QuantileSketch;
  readonly f: QuantileSketch;
  readonly m: QuantileSketch;
}

export interface RfmInput {
  readonly recencyDays: number | null;
  readonly frequency: number;
  readonly monetaryMinor: number;
}

/** Summarizes customers' RFM inputs (e.g. `describe(state, config)` of each); never-buyers are skipped. */
export function summarizeRfm(inputs: Iterable<RfmInput>, alpha: number = DEFAULT_SKETCH_ALPHA): RfmSummary {
  const r: number[] = [];
  const f: number[] = [];
  const m: number[] = [];
  for (const x of inputs) {
    if (x.recencyDays === null) continue;
    r.push(x.recencyDays);
    f.push(x.frequency);
    m.push(x.monetaryMinor);
  }
  return { r: sketchOf(r, alpha), f: sketchOf(f, alpha), m: sketchOf(m, alpha) };
}

export function mergeRfmSummaries(a: RfmSummary, b: RfmSummary): RfmSummary {
  return { r: mergeSketches(a.r, b.r), f: mergeSketches(a.f, b.f), m: mergeSketches(a.m, b.m) };
}

/** Quintile boundaries used as score cuts. */
export const QUINTILES = [0.2, 0.4, 0.6, 0.8] as const;

/**
 * Cuts at the 20/40/60/80% quantiles, rounded to integers (days, orders, minor units; exact
 * for values below 1 / (2 alpha), i.e. 50 at alpha = 1%). Null when no customer has bought.
 */
export function quantileCuts(summary: RfmSummary): RfmCuts | null {
  const cutsOf = (s: QuantileSketch): number[] | null => {
    const out: number[] = [];
    for (const q of QUINTILES) {
      const v = sketchQuantile(s, q);
      if (v === null) return null;
      out.push(Math.round(v));
    }
    return out;
  };
  const r = cutsOf(summary.r);
  const f = cutsOf(summary.f);
  const m = cutsOf(summary.m);
  return r === null || f === null || m === null ? null : { r, f, m };
}
