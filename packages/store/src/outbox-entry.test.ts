import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PACKED_FIELD, entryRecords, packRecords, unpackRecords } from './outbox-entry.ts';

describe('outbox entry records', () => {
  it('unpacks what it packs: keys in UTF-8, values binary, in order', () => {
    const record = fc.record({ key: fc.string({ unit: 'grapheme' }), value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        expect(unpackRecords(packRecords(records))).toEqual(records);
        expect(entryRecords('1-0', [Buffer.from(PACKED_FIELD), packRecords(records)])).toEqual(records);
      }),
    );
  });

  it('reads entries of the earlier k/v format', () => {
    const fields = ['k', 'alice', 'v', '\u0001', 'k', 'bob', 'v', '\u0002'].map((f) => Buffer.from(f));
    expect(entryRecords('1-0', fields)).toEqual([
      { key: 'alice', value: Buffer.from([1]) },
      { key: 'bob', value: Buffer.from([2]) },
    ]);
  });

  it('refuses a truncated or foreign entry, naming it', () => {
    const packed = packRecords([{ key: 'alice', value: Buffer.from([1, 2, 3]) }]);
    expect(() => unpackRecords(packed.subarray(0, packed.length - 1))).toThrow(/truncated packed outbox records/);
    expect(() => unpackRecords(packed.subarray(0, 2))).toThrow(/truncated/);
    expect(() => entryRecords('7-1', [Buffer.from('x'), Buffer.from('y')])).toThrow(/outbox entry 7-1 is neither/);
    expect(() =>
      entryRecords(
        '7-2',
        ['k', 'alice', 'v'].map((f) => Buffer.from(f)),
      ),
    ).toThrow(/outbox entry 7-2/);
  });
});
