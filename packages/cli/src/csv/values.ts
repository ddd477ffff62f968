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

/** A whole quantity ('6', '+6', '6.0'); null otherwise. */
export function parseQuantity(cell: string): number | null {
  const m = /^([+-]?\d{1,9})(?:\.0*)?$/.exec(cell.trim());
  return m === null ? null : Number(m[1]);
}

/** A non-negative decimal ('2.55', '.5', '3') in millionths; null when negative, malformed or with more than six decimals. */
export function parseMicros(cell: string): number | null {
  const m = /^\+?(\d{0,12})(?:\.(\d{0,6}))?$/.exec(cell.trim());
  if (m === null || (m[1] === '' && (m[2] ?? '') === '')) return null;
  return Number(m[1] || '0') * MICROS_PER_UNIT + Number((m[2] ?? '').padEnd(6, '0'));
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
