/**
 * Time helpers. The domain works on epoch milliseconds internally and at one-second
 * resolution for facts (event times are floored to the second so the compact codec can
 * store seconds without losing anything the rules look at). ISO strings only at the edges.
 */
import { isoUtcMillis } from '@crm/contracts';

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

/**
 * Epoch ms of an ISO-8601 UTC timestamp already validated by @crm/contracts: read by the
 * contracts' own parser (Date.parse's result for those, in half its time; this runs per
 * event), anything else by Date.parse.
 */
export function isoToMs(iso: string): number {
  const utc = isoUtcMillis(iso);
  if (!Number.isNaN(utc)) return utc;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO-8601 instant: ${iso}`);
  return ms;
}

/** Floors epoch ms to the whole second (fact resolution). */
export function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

/** Last instant msToIso formats by hand: 9999-12-31T23:59:59.999Z (four-digit years). */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
/** '00' .. '99': two-digit fields without a padStart per call. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * ISO-8601 UTC with milliseconds, e.g. 2026-01-31T12:00:00.000Z: exactly
 * `new Date(ms).toISOString()`, formatted by hand for 1970-9999 (the engine formats every
 * change's time; the Date round trip was a visible share of its CPU). Other instants, and
 * invalid ones (which throw the same RangeError), go through Date.
 */
export function msToIso(ms: number): string {
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return new Date(ms).toISOString();
  const t = Math.floor(ms);
  const days = Math.floor(t / DAY_MS);
  const msOfDay = t - days * DAY_MS;
  const { year, month, day } = civilFromDays(days);
  const seconds = Math.floor(msOfDay / SECOND_MS);
  const millis = msOfDay - seconds * SECOND_MS;
  return (
    `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:` +
    `${TWO_DIGITS[seconds % 60]}.${millis < 100 ? (millis < 10 ? '00' : '0') : ''}${millis}Z`
  );
}

/**
 * Proleptic Gregorian date of a day count since 1970-01-01 (>= 0), by H. Hinnant's
 * civil_from_days (https://howardhinnant.github.io/date_algorithms.html): eras of 400 years
 * (146,097 days), years starting on March 1st so the leap day comes last.
 */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468; // days since 0000-03-01
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097; // [0, 146096]
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365); // [0, 399]
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100)); // [0, 365], from March 1st
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153); // [0, 11]
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Whole days elapsed from `from` to `to` (floor); 0 when `to` is before `from`. */
export function daysBetween(from: number, to: number): number {
  return Math.max(0, Math.floor((to - from) / DAY_MS));
}
