import { createHash } from 'node:crypto';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { type AvroRecordSchema, loadAvroSchema } from './avro.ts';
import { chunkByBytes, MAX_KEPT_BYTES, MAX_KEPT_HEADER_BYTES, MAX_KEPT_KEY_BYTES, toDeadLetter, UNKNOWN_SUBJECT } from './dead-letter.ts';
import { DeadLetterEvent } from './events.ts';
import { decodeInput, encodeOutput } from './serde.ts';
import { encodeWireFormat, MemoryRegistry } from './testing.ts';

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
      truncated: false,
      sha256: createHash('sha256').update(record.value).digest('hex'),
      size: record.value.length,
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

describe('toDeadLetter bounds the letter whatever the record', () => {
  const error = { reason: 'invalid_field' as const, field: 'data', message: 'bad' };
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const registry = new MemoryRegistry();

  it('keeps the first bytes of a value too large to wrap, with its hash and size, and says so', async () => {
    const value = Buffer.alloc(1_000_000, 0x41);
    const dl = toDeadLetter({ ...record, value }, error, options);
    expect(DeadLetterEvent.safeParse(dl).error).toBeUndefined();
    expect(dl.data).toMatchObject({ truncated: true, sha256: sha256(value), size: 1_000_000, offset: record.offset, partition: 3 });
    const kept = Buffer.from(dl.data.valueBase64 ?? '', 'base64');
    expect(value.subarray(0, kept.length).equals(kept)).toBe(true);
    const keptHeaderBytes = dl.data.headers.reduce((n, h) => n + h.key.length + (h.value === null ? 0 : Buffer.from(h.value, 'base64').length), 0);
    expect(kept.length + record.key.length + keptHeaderBytes).toBe(MAX_KEPT_BYTES);
    for (const encoded of [await encodeOutput('crm.dead-letter.v1', dl), await encodeOutput('crm.dead-letter.v1', dl, registry)]) {
      expect(encoded.length).toBeLessThan(400_000);
    }
  });

  it('cuts an oversized key and drops headers beyond their budget', () => {
    const key = Buffer.alloc(5000, 0x6b);
    const headers = { small: 'x', huge: Buffer.alloc(MAX_KEPT_HEADER_BYTES), after: 'y' };
    const dl = toDeadLetter({ ...record, key, headers }, error, options);
    expect(dl.subject).toBe(UNKNOWN_SUBJECT);
    expect(Buffer.from(dl.data.keyBase64 ?? '', 'base64').equals(key.subarray(0, MAX_KEPT_KEY_BYTES))).toBe(true);
    expect(dl.data.headers.map((h) => h.key)).toEqual(['small', 'after']);
    expect(dl.data.truncated).toBe(true);
    expect(dl.data.size).toBe(record.value.length);
  });

  it('keeps a record exactly at the bound whole', () => {
    const dl = toDeadLetter({ ...record, headers: {}, value: Buffer.alloc(MAX_KEPT_BYTES - record.key.length, 1) }, error, options);
    expect(dl.data.truncated).toBe(false);
    const tombstone = toDeadLetter({ ...record, value: null }, error, options);
    expect(tombstone.data).toMatchObject({ truncated: false, sha256: null, size: null, valueBase64: null });
  });

  it('reads letters written before truncated, sha256 and size existed (JSON and the older Avro schema)', async () => {
    const dl = toDeadLetter(record, error, options);
    const { truncated: _t, sha256: _s, size: _z, ...olderData } = dl.data;
    const older = { ...dl, data: olderData };
    const expected = { ...dl, data: { ...olderData, truncated: null, sha256: null, size: null } };
    expect(await decodeInput('crm.dead-letter.v1', Buffer.from(JSON.stringify(older)), registry)).toMatchObject({ ok: true, event: expected });

    const current = loadAvroSchema('crm.dead-letter.v1');
    const schema = {
      ...current,
      fields: current.fields.map((f) => {
        if (f.name !== 'data') return f;
        const data = f.type as AvroRecordSchema;
        return { ...f, type: { ...data, fields: data.fields.filter((d) => !['truncated', 'sha256', 'size'].includes(d.name)) } };
      }),
    };
    const { id } = await registry.register(schema, { subject: 'crm.dead-letter.v1-value' });
    const wire = encodeWireFormat(id, avro.Type.forSchema(schema as avro.Schema).toBuffer(older));
    expect(await decodeInput('crm.dead-letter.v1', wire, registry)).toMatchObject({ ok: true, event: expected });
  });
});

const m = (key: number, value: number) => ({ key: Buffer.alloc(key), value: Buffer.alloc(value) });

describe('chunkByBytes', () => {
  it('keeps order and puts at most maxBytes of keys and values in a chunk', () => {
    const messages = [m(1, 9), m(0, 10), m(5, 5), m(0, 1)];
    expect(chunkByBytes(messages, 20).map((c) => c.map((x) => messages.indexOf(x)))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('sends a message larger than the bound alone, never an empty chunk', () => {
    const messages = [m(0, 3), m(0, 50), m(0, 3)];
    expect(chunkByBytes(messages, 10).map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkByBytes([], 10)).toEqual([]);
    expect(chunkByBytes([{ key: null, value: null }], 0)).toHaveLength(1);
  });
});
