/** isIsoUtc: the real instants of ISO-8601 UTC, and nothing else. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIsoUtc } from './events.ts';

/** The reference: a Date round trip of the parsed fields. */
function reference(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1970 || y > 9999 || h > 23 || mi > 59 || s > 59) return false;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('isIsoUtc', () => {
  it('accepts real instants with or without fractions, and refuses impossible dates', () => {
    expect(isIsoUtc('2026-01-31T12:00:00Z')).toBe(true);
    expect(isIsoUtc('2024-02-29T23:59:59.123456789Z')).toBe(true);
    expect(isIsoUtc('2000-02-29T00:00:00Z')).toBe(true);
    expect(isIsoUtc('1900-02-29T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2100-02-29T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-02-29T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-04-31T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-13-01T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-00-01T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-01-00T00:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-01-01T24:00:00Z')).toBe(false);
    expect(isIsoUtc('2026-01-01T00:00:00+01:00')).toBe(false);
    expect(isIsoUtc('1969-12-31T23:59:59Z')).toBe(false);
  });

  it('agrees with a Date round trip on every field combination', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1890, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (y, mo, d, h, mi, s) => {
          const iso = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}Z`;
          expect(isIsoUtc(iso)).toBe(reference(y, mo, d, h, mi, s));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
