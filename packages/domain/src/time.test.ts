import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, isoToMs, msToIso } from './time.ts';

/** Date#toISOString, or the error it throws. */
function reference(ms: number): string {
  try {
    return new Date(ms).toISOString();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}
function formatted(ms: number): string {
  try {
    return msToIso(ms);
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** The last millisecond Date can represent: 275760-09-13T00:00:00.000Z. */
const MAX_DATE_MS = 8.64e15;

describe('msToIso', () => {
  it('formats like Date#toISOString at any millisecond of 1970-9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(msToIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('gets every day of 1970-2400 right: month ends, leap days, century years (2100 is not leap, 2000 and 2400 are)', () => {
    const days = Date.UTC(2401, 0, 1) / DAY_MS;
    const wrong: string[] = [];
    for (let day = 0; day < days; day++) {
      const ms = day * DAY_MS + ((day * 7_919_777) % DAY_MS);
      if (msToIso(ms) !== new Date(ms).toISOString()) wrong.push(new Date(ms).toISOString());
    }
    expect(wrong).toEqual([]);
  });

  it('leaves other instants to Date: before 1970, five- and six-digit years, fractions, invalid ones (same RangeError)', () => {
    const edges = [-1, -0.5, 0.5, 1.999, 253_402_300_799_999, 253_402_300_800_000, MAX_DATE_MS, MAX_DATE_MS + 1, -MAX_DATE_MS, Number.NaN, Infinity];
    for (const ms of edges) expect(formatted(ms)).toBe(reference(ms));
    fc.assert(
      fc.property(fc.double({ min: -MAX_DATE_MS * 1.01, max: MAX_DATE_MS * 1.01, noNaN: true }), (ms) => {
        expect(formatted(ms)).toBe(reference(ms));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('isoToMs', () => {
  it('reads ISO-8601 UTC times (0-9 fraction digits) as Date.parse does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), fc.integer({ min: 0, max: 9 }), fc.nat(), (ms, digits, extra) => {
        const iso = msToIso(ms);
        // The milliseconds cut or extended to `digits` fraction digits (none: no '.').
        const fraction = `${iso.slice(20, 23)}${String(extra).padStart(6, '0').slice(0, 6)}`.slice(0, digits);
        const time = `${iso.slice(0, 19)}${digits === 0 ? '' : `.${fraction}`}Z`;
        expect(isoToMs(time)).toBe(Date.parse(time));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads what only Date.parse reads (offsets, years before 1970, a Feb 30 V8 rolls over, a date alone) through it', () => {
    for (const time of ['2024-01-01T00:00:00+02:00', '1969-12-31T23:59:59.999Z', '2024-02-30T00:00:00Z', '2024-01-01'])
      expect(isoToMs(time)).toBe(Date.parse(time));
    expect(() => isoToMs('yesterday')).toThrow(RangeError);
  });
});
