import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorError, START, decodeCursor, encodeCursor } from './cursor.ts';
import { anyCursor, b64 } from './testing/cursors.ts';

describe('member cursor', () => {
  it('round-trips every position', () => {
    for (const c of [START, { p: 2, c: '18446744073709551615', after: null, end: null }, { p: 1, c: '0', after: 'cust-ü/42', end: '0' }]) {
      const text = encodeCursor(c);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text, 3)).toEqual(c);
    }
  });

  it.each([
    ['not base64url', 'a b'],
    ['not JSON', b64('{nope')],
    ['garbage base64', 'A'],
    ['wrong version', b64('[2,0,"0",null,null]')],
    ['negative partition', b64('[1,-1,"0",null,null]')],
    ['non-numeric SSCAN cursor', b64('[1,0,"x",null,null]')],
    ['negative SSCAN cursor', b64('[1,0,"-1",null,null]')],
    ['SSCAN cursor of 2^64', b64('[1,0,"18446744073709551616",null,null]')],
    ['SSCAN cursor of 20 nines', b64('[1,0,"99999999999999999999",null,null]')],
    ['end cursor beyond 2^64', b64('[1,0,"5","m","18446744073709551616"]')],
    ['after without end', b64('[1,0,"5","m",null]')],
    ['partition beyond the count', encodeCursor({ p: 3, c: '0', after: null, end: null })],
  ])('rejects a cursor that is %s', (_what, text) => {
    expect(() => decodeCursor(text, 3)).toThrow(CursorError);
  });

  it('decodes any text to a position Redis accepts, or refuses it with a CursorError', () => {
    fc.assert(
      fc.property(anyCursor(), (text) => {
        let at: ReturnType<typeof decodeCursor>;
        try {
          at = decodeCursor(text, 3);
        } catch (err) {
          expect(err).toBeInstanceOf(CursorError);
          return;
        }
        expect(Number.isInteger(at.p) && at.p >= 0 && at.p < 3).toBe(true);
        for (const c of [at.c, at.end ?? '0']) {
          expect(c).toMatch(/^(0|[1-9]\d*)$/);
          expect(BigInt(c) < 2n ** 64n).toBe(true);
        }
        expect(decodeCursor(encodeCursor(at), 3)).toEqual(at);
      }),
      { numRuns: 2000 },
    );
  });

  it("binds a walk's cursor to its walk: another listing's cursor is refused", () => {
    const at = { p: 1, c: '17', after: 'cust-9', end: '40' };
    const customers = encodeCursor(at, 'customers?stage:new');
    expect(decodeCursor(customers, 3, 'customers?stage:new')).toEqual(at);
    expect(() => decodeCursor(customers, 3, 'customers')).toThrow(/from another listing/);
    expect(() => decodeCursor(customers, 3)).toThrow(/from another listing/);
    expect(() => decodeCursor(encodeCursor(at), 3, 'customers')).toThrow(/from another listing/);
    // Six elements at most.
    expect(() => decodeCursor(b64('[1,0,"0",null,null,"customers","x"]'), 3, 'customers')).toThrow(CursorError);
  });
});
