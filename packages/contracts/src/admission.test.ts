import { describe, expect, it } from 'vitest';
import { admissionError, DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MIN_EVENT_TIME, eventTimeRefusal } from './admission.ts';
import { DECODE_REASONS } from './errors.ts';

const bounds = { minEventTime: Date.parse(DEFAULT_MIN_EVENT_TIME), maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS };
const now = Date.parse('2026-06-01T12:00:00Z');
const event = (time: string, subject = 'ann') => ({ subject, time });
const check = (e: { subject: string; time: string }, key: Buffer | null) => {
  const err = admissionError('commerce.orders.v1', e, key, bounds, now);
  return err === null ? null : { reason: err.reason, field: err.field };
};

describe('admission', () => {
  it('admits a keyed event within the bounds', () => {
    expect(check(event('2026-06-02T11:59:59Z'), Buffer.from('ann'))).toBeNull();
    expect(check(event('2000-01-01T00:00:00Z'), Buffer.from('ann'))).toBeNull();
  });

  it('refuses a record without a key, or keyed by another customer', () => {
    expect(check(event('2026-06-01T00:00:00Z'), null)).toEqual({ reason: 'key_missing', field: 'subject' });
    expect(check(event('2026-06-01T00:00:00Z'), Buffer.alloc(0))).toEqual({ reason: 'key_missing', field: 'subject' });
    expect(check(event('2026-06-01T00:00:00Z'), Buffer.from('bob'))).toEqual({ reason: 'key_mismatch', field: 'subject' });
    // Bytes that are not UTF-8 decode to U+FFFD: a subject spelling it is still not that key.
    expect(check(event('2026-06-01T00:00:00Z', '\uFFFD'), Buffer.from([0xff]))).toEqual({ reason: 'key_mismatch', field: 'subject' });
  });

  it('refuses event times beyond the skew or before the floor', () => {
    expect(check(event('9999-12-31T23:59:59Z'), Buffer.from('ann'))).toEqual({ reason: 'event_time_future', field: 'time' });
    expect(check(event('2026-06-02T12:00:00.001Z'), Buffer.from('ann'))).toEqual({ reason: 'event_time_future', field: 'time' });
    expect(check(event('1999-12-31T23:59:59Z'), Buffer.from('ann'))).toEqual({ reason: 'event_time_too_old', field: 'time' });
    expect(eventTimeRefusal(now + DEFAULT_MAX_FUTURE_SKEW_MS, bounds, now)).toBeNull();
    expect(eventTimeRefusal(now + DEFAULT_MAX_FUTURE_SKEW_MS + 1, bounds, now)).toBe('event_time_future');
  });

  it('reasons are decode reasons, so dead letters and metrics name them', () => {
    for (const r of ['key_missing', 'key_mismatch', 'event_time_future', 'event_time_too_old']) expect(DECODE_REASONS).toContain(r);
  });
});
