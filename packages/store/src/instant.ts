/**
 * The instant a read derives at (docs/segmentation.md, "Reads and their instant"), for the
 * profile API and the CLI alike: the one the caller asks for (`?at=`, `--at`) when given; else the wall clock, or with CRM_CLOCK=stream the deployment's
 * stream time (`<prefix>:stream-clock`), falling back to each customer's own asOf while no
 * stream time is stored. A customer whose asOf is later than the instant reads at its asOf
 * (readCustomer): its `atSource` then says `state`.
 */
import { type CustomerReading, type CustomerState, type DomainConfig, readCustomer } from '@crm/domain';
import type { Redis } from 'ioredis';
import { readStreamClock } from './stream-clock.ts';

/** Where a read's instant came from; `state`: the customer's asOf (later than the instant asked, or no stream time stored). */
export const AT_SOURCES = ['query', 'wall_clock', 'stream_clock', 'state'] as const;
export type AtSource = (typeof AT_SOURCES)[number];

/** `wall`: derive at the wall clock; `stream`: at the deployment's stream time (as the segmenter's CRM_CLOCK). */
export type Clock = 'wall' | 'stream';

export interface ReadInstant {
  /** Epoch ms, or null: each customer reads at its own asOf (stream clock, none stored). */
  at: number | null;
  source: AtSource;
}

/** The instant of a request: `query` (epoch ms of `?at=`) when given, else the deployment's clock. */
export async function readInstant(query: number | undefined, clock: Clock, redis: Redis, prefix: string, now: () => number = Date.now): Promise<ReadInstant> {
  if (query !== undefined) return { at: query, source: 'query' };
  if (clock === 'wall') return { at: now(), source: 'wall_clock' };
  const stream = await readStreamClock(redis, prefix);
  return stream === null ? { at: null, source: 'state' } : { at: stream, source: 'stream_clock' };
}

/** A customer read at the request's instant (readCustomer), and where the instant it used came from. */
export function readAt(state: CustomerState, instant: ReadInstant, domain: DomainConfig): { reading: CustomerReading; atSource: AtSource } {
  const reading = readCustomer(state, instant.at ?? state.asOf, domain);
  return { reading, atSource: reading.at === instant.at ? instant.source : 'state' };
}
