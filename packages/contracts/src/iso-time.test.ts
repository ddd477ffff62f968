/** isIsoUtc: the real instants of ISO-8601 UTC, and nothing else. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIsoUtc, isoUtcMillis } from './events.ts';

/** The reference: a Date round trip of the parsed fields. */
function reference(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1970 || y > 9999 || h > 23 || mi > 59 || s > 59) return false;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The definition as a pattern (what isIsoUtc once ran), then the fields' ranges. */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;
function byPattern(s: string): boolean {
  const m = ISO_UTC.exec(s);
  return m !== null && reference(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

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

  it('agrees with the pattern on near misses of every kind, and gives the instant Date.parse gives', () => {
    const fraction = fc.oneof(
      fc.constant(''),
      fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 11 }).map((digits) => `.${digits}`),
    );
    const valid = fc
      .tuple(
        fc.integer({ min: 1960, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.nat(25),
        fc.nat(60),
        fc.nat(60),
        fraction,
      )
      .map(([y, mo, d, h, mi, s, f]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f}Z`);
    // One character replaced, inserted or removed.
    const nearMiss = fc
      .tuple(valid, fc.nat(), fc.constantFrom('', '0', '9', 'a', '-', ':', '.', 'T', 'Z', ' ', '/', '\u0660'), fc.boolean())
      .map(([s, at, c, insert]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + c + s.slice(insert ? i : i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(valid, nearMiss, fc.string({ maxLength: 32 })), (s) => {
        expect(isIsoUtc(s), s).toBe(byPattern(s));
        expect(isoUtcMillis(s), s).toBe(byPattern(s) ? Date.parse(s) : Number.NaN);
      }),
      { numRuns: 5000 },
    );
  });
});
