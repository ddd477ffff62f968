import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEY_DIGITS, keyOf, TIE_MODULUS, tieOf } from './state.ts';

/** The definitions of the stored keys and tie-breaks, on a Buffer digest (how they were first written). */
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
const referenceKey = (id: string): string => (sha256(id).readUIntBE(0, 6) % 36 ** KEY_DIGITS).toString(36).padStart(KEY_DIGITS, '0');
const referenceTie = (id: string): number => sha256(id).readUInt32BE(0) % TIE_MODULUS;

describe('hashed keys and tie-breaks (stored in every state: they must never change)', () => {
  it('keep their values', () => {
    expect(['ORD-2024-100000', 'INT-55501', 'CASE-901', 'é'].map(keyOf)).toEqual(['6jn7bjb', 'ultcbcs', '7xs9o4l', 'okxyo8j']);
    expect(['ORD-2024-100000', 'evt-000001', 'é'].map(tieOf)).toEqual([800, 415, 126]);
  });

  it('read the SHA-256 prefix of any id like the Buffer-based definition', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (id) => {
        expect(keyOf(id)).toBe(referenceKey(id));
        expect(tieOf(id)).toBe(referenceTie(id));
      }),
      { numRuns: 2000 },
    );
  });
});
