/**
 * patches/kafkajs@2.2.4.patch rewrites kafkajs's protocol encoder for speed: varints written
 * in place, a fast path for varlongs that fit 31 bits, buffers from allocUnsafe, a record's
 * encoder allocated at its size, and the record batch's CRC32-C from crc-32's table-driven
 * implementation instead of a byte at a time. kafkajs's own decoder must read back exactly what was
 * written, the size functions must agree with the bytes written, and no byte of a reused
 * allocation may leak into a record. (Every integration test then has a real broker check the
 * batches' CRCs.)
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

interface EncoderLike {
  writeVarLong(value: number | string): EncoderLike;
  writeUVarInt(value: number): EncoderLike;
  writeVarInt(value: number): EncoderLike;
  readonly buffer: Buffer;
}
interface DecoderLike {
  readVarLong(): { toString(): string };
  readUVarInt(): number;
  readVarInt(): number;
  readVarIntBytes(): Buffer;
}
interface DecodedRecord {
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (): EncoderLike; sizeOfVarLong(value: number | string): number };
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => DecoderLike;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}) => EncoderLike;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (
  decoder: DecoderLike,
  context: { firstOffset: string; firstTimestamp: string; magicByte: number },
) => DecodedRecord;

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

describe('the patched kafkajs encoder', () => {
  it('writes varlongs that decode to the value, in as many bytes as sizeOfVarLong says', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          fc.maxSafeInteger(),
          fc.maxSafeNat().map((n) => -n),
        ),
        (n) => {
          const bytes = new Encoder().writeVarLong(n).buffer;
          expect(new Decoder(bytes).readVarLong().toString()).toBe(String(n));
          expect(bytes.length).toBe(Encoder.sizeOfVarLong(n));
        },
      ),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(int64, (n) => {
        const bytes = new Encoder().writeVarLong(n.toString()).buffer;
        expect(new Decoder(bytes).readVarLong().toString()).toBe(n.toString());
        expect(bytes.length).toBe(Encoder.sizeOfVarLong(n.toString()));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes unsigned varints and varints that decode to the value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (u, v) => {
        const d = new Decoder(new Encoder().writeUVarInt(u).writeVarInt(v).writeUVarInt(u).buffer);
        expect([d.readUVarInt(), d.readVarInt(), d.readUVarInt()]).toEqual([u, v, u]);
      }),
      { numRuns: 5000 },
    );
  });

  it('encodes records that decode to their fields, whatever the allocator held before', () => {
    const bytes = fc.option(fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)));
    fc.assert(
      fc.property(
        fc.nat({ max: 100_000 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        bytes,
        bytes,
        fc.dictionary(
          // Prefixed: kafkajs's header decoder folds keys into a plain object (`toString` would clash).
          fc.string({ maxLength: 20 }).map((k) => `h-${k}`),
          fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)),
          { maxKeys: 4 },
        ),
        (offsetDelta, timestampDelta, key, value, headers) => {
          // Dirty the pool allocUnsafe draws from.
          Buffer.allocUnsafe(4096).fill(0xa5);
          const encoded = encodeRecord({ offsetDelta, timestampDelta, key, value, headers }).buffer;
          const decoder = new Decoder(encoded);
          const body = decoder.readVarInt();
          expect(encoded.length - body).toBeLessThanOrEqual(5);
          const r = decodeRecord(decoder, { firstOffset: '1000', firstTimestamp: '0', magicByte: 2 });
          expect(r.offset).toBe(String(1000 + offsetDelta));
          expect(r.timestamp).toBe(String(timestampDelta));
          expect(r.key).toEqual(key);
          expect(r.value).toEqual(value);
          expect(r.headers).toEqual(headers);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('checksums record batches with CRC32-C, as a byte at a time would', () => {
    // The reference: the Castagnoli polynomial (reflected 0x82f63b78), one byte at a time.
    const table = Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
    const reference = (bytes: Uint8Array) => {
      let crc = 0xffffffff;
      for (const b of bytes) crc = (table[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
      return (crc ^ 0xffffffff) >>> 0;
    };
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expect(crc32C(Buffer.from(bytes))).toBe(reference(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
