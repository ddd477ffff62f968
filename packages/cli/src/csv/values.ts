/** Parsers of CSV cell values: dates, quantities and decimal prices, exact (no floating point). */

/** Prices are held in millionths of a currency unit, exact for up to six decimals. */
export const MICROS_PER_UNIT = 1_000_000;

const MDY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]00:?00)?$/;

/**
 * Epoch ms of a cell like '12/1/2010 8:26' (M/D/YYYY H:MM[:SS], or D/M/YYYY with `dayFirst`)
 * or '2010-12-01 08:26:00' (ISO-like). The export carries no zone: times are taken as UTC.
 * null when unparsable or not a real instant (no 2/30).
 */
export function parseDate(cell: string, dayFirst = false): number | null {
  const s = cell.trim();
  let y: number;
  let mo: number;
  let d: number;
  let h: number;
  let mi: number;
  let se: number;
  let m = MDY.exec(s);
  if (m !== null) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    [mo, d] = dayFirst ? [b, a] : [a, b];
    [y, h, mi, se] = [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  } else {
    m = YMD.exec(s);
    if (m === null) return null;
    [y, mo, d, h, mi, se] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  }
  if (y < 1970 || h > 23 || mi > 59 || se > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return t;
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
