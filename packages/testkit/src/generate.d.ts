/**
 * A seeded, deterministic generator of input events for tests: customers who register,
 * buy at heterogeneous rates, get refunds and cancellations, and contact the service desk.
 * (The richer BG/NBD + gamma-gamma sample-data generator is issue #6's.)
 */
import type { InputEvent } from '@crm/contracts';
/** mulberry32: a tiny, well-distributed 32-bit PRNG; the same seed gives the same stream. */
export declare function prng(seed: number): () => number;
export interface GenerateOptions {
  seed: number;
  customers: number;
  events: number;
  /** Event times fall in [start, end] (ms). */
  start: number;
  end: number;
  /** Customer id prefix (isolation between tests sharing topics). */
  prefix?: string;
}
/** `events` events over `customers` customers, in time order. */
export declare function generateEvents(o: GenerateOptions): InputEvent[];
export declare const DAY_MS = 86400000;
