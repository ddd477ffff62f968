/**
 * fast-check arbitraries of member cursors, for the cursor's unit test and the HTTP test.
 */
import fc from 'fast-check';

/** base64url of `s`, the encoding of cursors. */
export const b64 = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Texts a client might send as a cursor: anything at all, base64url of any JSON, and
 * base64url of cursor-shaped tuples whose fields are anything (cursors far beyond 2^64,
 * negative, non-numeric; partitions out of range). Shared with the HTTP test.
 */
export const anyCursor = (): fc.Arbitrary<string> => {
  const sscan = fc.oneof(
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('18446744073709551615', '18446744073709551616', '99999999999999999999', '-1', '00', '1e3', ' 1', '0x10', ''),
    fc.string(),
  );
  const tuple = fc
    .tuple(
      fc.oneof(fc.constant(1), fc.integer()),
      fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
      sscan,
      fc.option(fc.string({ maxLength: 600 })),
      fc.option(sscan),
    )
    .map((t) => b64(JSON.stringify(t)));
  return fc.oneof(fc.string({ minLength: 1, maxLength: 1100 }), fc.json().map(b64), tuple);
};
