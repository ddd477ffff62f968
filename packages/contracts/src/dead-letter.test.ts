import { describe, expect, it } from 'vitest';
import { toDeadLetter, UNKNOWN_SUBJECT } from './dead-letter.ts';
import { DeadLetterEvent } from './events.ts';
import { decodeInput, encodeOutput } from './serde.ts';
import { MemoryRegistry } from './testing.ts';

const options = { source: 'urn:crm:segmenter', time: '2026-02-06T07:30:00Z' };
const record = {
  topic: 'commerce.orders.v1',
  partition: 3,
  offset: '18447',
  key: Buffer.from('cust-000042'),
  value: Buffer.from('{"specversion":"1.0"'),
  headers: { traceparent: Buffer.from('00-abc-def-01'), multi: ['a', Buffer.from('b')], absent: undefined },
  timestamp: '1770363000000',
};

describe('toDeadLetter', () => {
  it('keeps the record whole: bytes, headers, coordinates and the decode error', async () => {
    const decoded = await decodeInput('commerce.orders.v1', record.value);
    if (decoded.ok) throw new Error('expected a decode error');
    const dl = toDeadLetter(record, decoded.error, options);
    expect(DeadLetterEvent.parse(dl)).toEqual(dl);
    expect(dl).toMatchObject({ subject: 'cust-000042', type: 'crm.dead-lettered', source: options.source, time: options.time });
    expect(dl.data).toMatchObject({
      topic: record.topic,
      partition: 3,
      offset: '18447',
      reason: 'json_invalid',
      field: null,
      recordTimestamp: '1770363000000',
    });
    expect(Buffer.from(dl.data.valueBase64 ?? '', 'base64')).toEqual(record.value);
    expect(Buffer.from(dl.data.keyBase64 ?? '', 'base64')).toEqual(record.key);
    expect(dl.data.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value, 'base64').toString()])).toEqual([
      ['traceparent', '00-abc-def-01'],
      ['multi', 'a'],
      ['multi', 'b'],
      ['absent', null],
    ]);
  });

  it('gives the same record the same id, and another offset another id', () => {
    const error = { reason: 'empty' as const, field: null, message: 'tombstone' };
    expect(toDeadLetter(record, error, options).id).toBe(toDeadLetter(record, error, { ...options, time: '2027-01-01T00:00:00Z' }).id);
    expect(toDeadLetter(record, error, options).id).not.toBe(toDeadLetter({ ...record, offset: '18448' }, error, options).id);
  });

  it('stays within the contract for huge messages, odd keys and missing values', async () => {
    const error = { reason: 'invalid_field' as const, field: `data.${'x'.repeat(400)}`, message: 'm'.repeat(10_000) };
    for (const key of [null, Buffer.alloc(0), Buffer.from([0xff, 0xfe]), Buffer.from('k'.repeat(129))]) {
      const dl = toDeadLetter({ ...record, key, value: null, timestamp: 'not-a-number' }, error, options);
      expect(DeadLetterEvent.safeParse(dl).error).toBeUndefined();
      expect(dl.subject).toBe(UNKNOWN_SUBJECT);
      expect(dl.data.valueBase64).toBeNull();
      expect(dl.data.recordTimestamp).toBeNull();
      // And it can be produced, as JSON or Avro.
      const registry = new MemoryRegistry();
      for (const value of [await encodeOutput('crm.dead-letter.v1', dl), await encodeOutput('crm.dead-letter.v1', dl, registry)]) {
        expect(await decodeInput('crm.dead-letter.v1', value, registry)).toMatchObject({ ok: true, event: dl });
      }
    }
  });
});
