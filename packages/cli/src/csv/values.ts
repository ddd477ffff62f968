/** Parsers of CSV cell values: dates, quantities and decimal prices, exact (no floating point). */

/** Prices are held in millionths of a currency unit, exact for up to six decimals. */
export const MICROS_PER_UNIT = 1_000_000;

/** How `--date-format` reads the date column. */
export const DATE_FORMATS = ['auto', 'iso', 'yyyymmdd', 'mdy', 'dmy'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

/** M/D/YYYY or D/M/YYYY, optionally with H:MM[:SS]. */
const SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
/** YYYY-MM-DD, optionally with HH:MM[:SS[.fff]] and a zone (Z or ±HH:MM; none = UTC). */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** YYYYMMDD, optionally with a space or T and HH:MM[:SS] or HHMM[SS]. */
const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:[ T](\d{2}):?(\d{2})(?::?(\d{2}))?)?$/;

/**
 * Epoch ms of a date cell read as `format`:
 * - `mdy` / `dmy`: '12/1/2010 8:26' (M/D/YYYY or D/M/YYYY, H:MM[:SS] optional);
 * - `iso`: '2010-12-01 08:26:00', '2010-12-01T08:26:00+01:00', '2010-12-01';
 * - `yyyymmdd`: '20101201', '20101201 08:26', '20101201T0826';
 * - `auto`: M/D/YYYY with a time (the retail export), or any `iso` or `yyyymmdd` value (neither
 *   can be mistaken for the other); a slash date without a time is refused as ambiguous.
 * Without a zone, times are UTC; a date without a time is its 00:00:00 UTC. null when
 * unparsable or not a real instant (no 2/30, nothing before 1970).
 */
export function parseDate(cell: string, format: DateFormat = 'auto'): number | null {
  const s = cell.trim();
  if (format === 'mdy' || format === 'dmy' || format === 'auto') {
    const m = SLASH.exec(s);
    if (m !== null) {
      if (format === 'auto' && m[4] === undefined) return null;
      const [a, b] = [Number(m[1]), Number(m[2])];
      const [mo, d] = format === 'dmy' ? [b, a] : [a, b];
      return instant(Number(m[3]), mo, d, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
    }
    if (format !== 'auto') return null;
  }
  if (format === 'iso' || format === 'auto') {
    const m = ISO.exec(s);
    if (m !== null) return instant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), offsetMinutes(m[7]));
    if (format === 'iso') return null;
  }
  const m = COMPACT.exec(s);
  if (m === null) return null;
  return instant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
}

/** Minutes east of UTC of 'Z', '+01:00', '-0530' (null when absent: UTC). */
function offsetMinutes(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return Number(digits.slice(2)) > 59 || minutes > 14 * 60 ? null : zone.startsWith('-') ? -minutes : minutes;
}

/** Epoch ms of a wall-clock time `offset` minutes east of UTC; null unless every field is in range. */
function instant(y: number, mo: number, d: number, h: number, mi: number, se: number, offset: number | null): number | null {
  if (offset === null || y < 1970 || h > 23 || mi > 59 || se > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return t - offset * 60_000;
}

/** ISO-8601 UTC without milliseconds. */
export function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A whole quantity ('6', '+6', '6.0'): up to nine digits, optionally signed, optionally followed
 * by '.' and zeros; null otherwise. (Scanned by hand: it runs for every row and allocates nothing.)
 */
export function parseQuantity(cell: string): number | null {
  const s = cell.trim();
  let i = 0;
  let sign = 1;
  const first = s.charCodeAt(0);
  if (first === PLUS || first === MINUS) {
    sign = first === MINUS ? -1 : 1;
    i = 1;
  }
  const start = i;
  let n = 0;
  for (let c = s.charCodeAt(i); c >= ZERO && c <= NINE; c = s.charCodeAt(++i)) n = n * 10 + (c - ZERO);
  if (i === start || i - start > 9) return null;
  if (i < s.length) {
    if (s.charCodeAt(i) !== DOT) return null;
    for (i++; s.charCodeAt(i) === ZERO; i++);
    if (i < s.length) return null;
  }
  return sign * n;
}

/**
 * A non-negative decimal ('2.55', '.5', '3', '+3.') in millionths: up to twelve digits before the
 * point and six after; null when negative, malformed or more precise. (Scanned by hand, like
 * parseQuantity.)
 */
export function parseMicros(cell: string): number | null {
  const s = cell.trim();
  let i = s.charCodeAt(0) === PLUS ? 1 : 0;
  const start = i;
  let units = 0;
  for (let c = s.charCodeAt(i); c >= ZERO && c <= NINE; c = s.charCodeAt(++i)) units = units * 10 + (c - ZERO);
  const unitDigits = i - start;
  if (unitDigits > 12) return null;
  let fraction = 0;
  let fractionDigits = 0;
  if (i < s.length) {
    if (s.charCodeAt(i) !== DOT) return null;
    for (let c = s.charCodeAt(++i); c >= ZERO && c <= NINE; c = s.charCodeAt(++i)) {
      fraction = fraction * 10 + (c - ZERO);
      fractionDigits++;
    }
    if (fractionDigits > 6 || i < s.length) return null;
  }
  if (unitDigits === 0 && fractionDigits === 0) return null;
  return units * MICROS_PER_UNIT + fraction * 10 ** (6 - fractionDigits);
}

/** Decimal places of a currency's minor unit (GBP 2, JPY 0, KWD 3), as ICU knows them. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Millionths to minor units (digits 0-6), rounded half up. */
export function microsToMinor(micros: number, digits: number): number {
  const divisor = 10 ** (6 - digits);
  return Math.floor((micros + divisor / 2) / divisor);
}

/** '17850.0' -> '17850' (spreadsheet tools write integer ids as floats); others trimmed as they are. */
export function normalizeId(cell: string): string {
  const s = cell.trim();
  const m = /^(\d+)\.0+$/.exec(s);
  return m === null ? s : (m[1] as string);
}
