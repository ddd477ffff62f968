import { describe, expect, it } from 'vitest';
import { isoSeconds, microsToMinor, minorDigits, normalizeId, parseDate, parseMicros, parseQuantity } from './values.ts';

describe('parseDate', () => {
  it("reads the export's M/D/YYYY H:MM as UTC", () => {
    expect(isoSeconds(parseDate('12/1/2010 8:26') as number)).toBe('2010-12-01T08:26:00Z');
    expect(isoSeconds(parseDate('1/12/2011 17:05:09') as number)).toBe('2011-01-12T17:05:09Z');
  });
  it('reads D/M/YYYY when told the day comes first', () => {
    expect(isoSeconds(parseDate('1/12/2011 17:05', true) as number)).toBe('2011-12-01T17:05:00Z');
  });
  it('reads ISO-like dates', () => {
    expect(isoSeconds(parseDate('2010-12-01 08:26:00') as number)).toBe('2010-12-01T08:26:00Z');
    expect(isoSeconds(parseDate('2010-12-01T08:26:00Z') as number)).toBe('2010-12-01T08:26:00Z');
  });
  it('refuses what is not a real instant', () => {
    for (const s of ['2/30/2011 8:00', '13/1/2011 8:00', '12/1/2010 24:00', '12/1/2010', 'yesterday', '', '12/1/1969 8:00']) expect(parseDate(s), s).toBeNull();
  });
});

describe('numbers', () => {
  it('parses whole quantities only', () => {
    expect(parseQuantity('6')).toBe(6);
    expect(parseQuantity('-12')).toBe(-12);
    expect(parseQuantity('6.0')).toBe(6);
    for (const s of ['6.5', '', 'six', '1e3']) expect(parseQuantity(s), s).toBeNull();
  });
  it('parses prices exactly, in millionths', () => {
    expect(parseMicros('2.55')).toBe(2_550_000);
    expect(parseMicros('.5')).toBe(500_000);
    expect(parseMicros('3')).toBe(3_000_000);
    expect(parseMicros('0.001')).toBe(1_000);
    for (const s of ['-1.00', '', '.', '1.2345678', 'n/a', '1,50']) expect(parseMicros(s), s).toBeNull();
  });
  it('rounds millionths half up to the minor unit', () => {
    expect(microsToMinor(2_550_000 * 6, 2)).toBe(1530);
    expect(microsToMinor(5_000, 2)).toBe(1);
    expect(microsToMinor(4_999, 2)).toBe(0);
    expect(microsToMinor(1_500_000, 0)).toBe(2);
  });
  it('knows minor units per currency', () => {
    expect(minorDigits('GBP')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
  });
  it('reads quantities and prices exactly as the regular expressions they replace', () => {
    // The former implementations, as the reference.
    const quantity = (cell: string) => {
      const m = /^([+-]?\d{1,9})(?:\.0*)?$/.exec(cell.trim());
      return m === null ? null : Number(m[1]);
    };
    const micros = (cell: string) => {
      const m = /^\+?(\d{0,12})(?:\.(\d{0,6}))?$/.exec(cell.trim());
      if (m === null || (m[1] === '' && (m[2] ?? '') === '')) return null;
      return Number(m[1] || '0') * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
    };
    // Every string of up to 5 of these characters, and long runs of digits around a point.
    const alphabet = ['+', '-', '.', '0', '1', '9', ' ', 'e'];
    let cells = [''];
    const all: string[] = [''];
    for (let length = 1; length <= 5; length++) {
      cells = cells.flatMap((c) => alphabet.map((a) => c + a));
      all.push(...cells);
    }
    for (let units = 0; units <= 14; units++) {
      for (let decimals = 0; decimals <= 8; decimals++) {
        const digits = (n: number) => '9876543210987654'.slice(0, n);
        all.push(
          digits(units),
          `${digits(units)}.${digits(decimals)}`,
          `+${digits(units)}.${digits(decimals)}`,
          `-${digits(units)}.0`,
          `${digits(units)}.${'0'.repeat(decimals)}`,
        );
      }
    }
    for (const cell of all) {
      expect(parseQuantity(cell), cell).toBe(quantity(cell));
      expect(parseMicros(cell), cell).toBe(micros(cell));
    }
  });
  it('drops the .0 spreadsheets add to integer ids', () => {
    expect(normalizeId(' 17850.0 ')).toBe('17850');
    expect(normalizeId('C-17850')).toBe('C-17850');
  });
});
