import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATE_FORMATS, type DateFormat, isoSeconds, microsToMinor, minorDigits, normalizeId, parseDate, parseMicros, parseQuantity } from './values.ts';

describe('parseDate', () => {
  const iso = (cell: string, format?: DateFormat) => {
    const t = parseDate(cell, format);
    return t === null ? null : isoSeconds(t);
  };
  it("reads the export's M/D/YYYY H:MM as UTC", () => {
    expect(iso('12/1/2010 8:26')).toBe('2010-12-01T08:26:00Z');
    expect(iso('1/12/2011 17:05:09')).toBe('2011-01-12T17:05:09Z');
    expect(iso('1/12/2011 17:05:09', 'mdy')).toBe('2011-01-12T17:05:09Z');
  });
  it('reads D/M/YYYY with dmy', () => {
    expect(iso('1/12/2011 17:05', 'dmy')).toBe('2011-12-01T17:05:00Z');
    expect(iso('13/12/2011', 'dmy')).toBe('2011-12-13T00:00:00Z');
    expect(iso('12/13/2011', 'dmy')).toBeNull();
  });
  // Each text format: what auto and the format itself read, then what the format alone refuses.
  it.each([
    {
      name: 'reads ISO date-times, with or without a zone, and ISO dates as 00:00 UTC',
      format: 'iso',
      reads: [
        ['2010-12-01 08:26:00', '2010-12-01T08:26:00Z'],
        ['2010-12-01T08:26:00Z', '2010-12-01T08:26:00Z'],
        ['2010-12-01T08:26:00.250Z', '2010-12-01T08:26:00Z'],
        ['2010-12-01T08:26+01:00', '2010-12-01T07:26:00Z'],
        ['2010-12-01T08:26:00-0530', '2010-12-01T13:56:00Z'],
        ['2011-12-09', '2011-12-09T00:00:00Z'],
      ],
      refuses: ['2010-12-01T08:26+25:00', '12/1/2010 8:26', '20111209'],
    },
    {
      name: 'reads YYYYMMDD, optionally with a time',
      format: 'yyyymmdd',
      reads: [
        ['20111209', '2011-12-09T00:00:00Z'],
        ['20111209 13:45', '2011-12-09T13:45:00Z'],
        ['20111209T134501', '2011-12-09T13:45:01Z'],
        ['20111209 1345', '2011-12-09T13:45:00Z'],
      ],
      refuses: ['2011-12-09', '20111309'],
    },
  ] satisfies { name: string; format: DateFormat; reads: [string, string][]; refuses: string[] }[])('$name', ({ format, reads, refuses }) => {
    for (const f of ['auto', format] as const) for (const [cell, expected] of reads) expect(iso(cell, f)).toBe(expected);
    for (const cell of refuses) expect(iso(cell, format)).toBeNull();
  });
  it('refuses a slash date without a time in auto (M/D or D/M cannot be told), and mdy reads it', () => {
    expect(iso('12/1/2010')).toBeNull();
    expect(iso('12/1/2010', 'mdy')).toBe('2010-12-01T00:00:00Z');
  });
  it('refuses what is not a real instant', () => {
    for (const format of DATE_FORMATS) {
      for (const s of [
        '2/30/2011 8:00',
        '13/13/2011 8:00',
        '12/1/2010 24:00',
        '2011-02-29',
        '20110229',
        '2011-12-09 24:00',
        'yesterday',
        '',
        '12/1/1969 8:00',
        '19691231',
        '1969-12-31',
      ]) {
        expect(parseDate(s, format), `${format} ${s}`).toBeNull();
      }
    }
  });
  it('reads what it writes, in every format (property)', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const t = Math.floor(date.getTime() / 1000) * 1000;
        const d = new Date(t);
        const [y, mo, day, h, mi, se] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
        expect(parseDate(`${mo}/${day}/${y} ${h}:${pad(mi)}:${pad(se)}`, 'mdy')).toBe(t);
        expect(parseDate(`${day}/${mo}/${y} ${h}:${pad(mi)}:${pad(se)}`, 'dmy')).toBe(t);
        expect(parseDate(`${y}-${pad(mo)}-${pad(day)}T${pad(h)}:${pad(mi)}:${pad(se)}Z`, 'iso')).toBe(t);
        expect(parseDate(`${y}${pad(mo)}${pad(day)} ${pad(h)}:${pad(mi)}:${pad(se)}`, 'yyyymmdd')).toBe(t);
        expect(parseDate(`${y}${pad(mo)}${pad(day)}`, 'auto')).toBe(Date.UTC(y, mo - 1, day));
      }),
    );
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
