/**
 * Time helpers. The domain works on epoch milliseconds internally and at one-second
 * resolution for facts (event times are floored to the second so the compact codec can
 * store seconds without losing anything the rules look at). ISO strings only at the edges.
 */

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

/** Epoch ms of an ISO-8601 UTC timestamp already validated by @crm/contracts. */
export function isoToMs(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO-8601 instant: ${iso}`);
  return ms;
}

/** Floors epoch ms to the whole second (fact resolution). */
export function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

/** ISO-8601 UTC with milliseconds, e.g. 2026-01-31T12:00:00.000Z. */
export function msToIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Whole days elapsed from `from` to `to` (floor); 0 when `to` is before `from`. */
export function daysBetween(from: number, to: number): number {
  return Math.max(0, Math.floor((to - from) / DAY_MS));
}
