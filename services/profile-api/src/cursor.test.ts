import { describe, expect, it } from 'vitest';
import { CursorError, START, decodeCursor, encodeCursor } from './cursor.ts';

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
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['wrong version', Buffer.from('[2,0,"0",null,null]').toString('base64url')],
    ['negative partition', Buffer.from('[1,-1,"0",null,null]').toString('base64url')],
    ['non-numeric SSCAN cursor', Buffer.from('[1,0,"x",null,null]').toString('base64url')],
    ['after without end', Buffer.from('[1,0,"5","m",null]').toString('base64url')],
    ['partition beyond the count', encodeCursor({ p: 3, c: '0', after: null, end: null })],
  ])('rejects a cursor that is %s', (_what, text) => {
    expect(() => decodeCursor(text, 3)).toThrow(CursorError);
  });
});
