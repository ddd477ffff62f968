/**
 * fast-check arbitraries of member cursors, for the cursor's unit test and the HTTP test.
 */
import fc from 'fast-check';

/** base64url of `s`, the encoding of cursors. */
export const b64 = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Texts a client might send as a cursor: mostly cursor-shaped tuples (version 1, a partition
 * near the count) whose SSCAN cursors are anything, at the edge of 64 bits and beyond,
 * negative or not numbers at all; also anything at all, and base64url of any JSON.
 */
export const anyCursor = (): fc.Arbitrary<string> => {
  const max = 2n ** 64n - 1n;
  const sscan = fc.oneof(
    { arbitrary: fc.bigInt({ min: 0n, max }).map(String), weight: 3 },
    // Beyond 64 bits but still at most 20 digits, as a cursor's shape allows.
    { arbitrary: fc.bigInt({ min: max - 5n, max: 10n ** 20n - 1n }).map(String), weight: 3 },
    { arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), weight: 1 },
    { arbitrary: fc.constantFrom('-1', '-0', '00', '01', '1e3', ' 1', '0x10', '', '1.5'), weight: 1 },
    { arbitrary: fc.string(), weight: 1 },
  );
  const tail = fc.oneof(
    { arbitrary: fc.constant([null, null] as const), weight: 5 },
    { arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 600 }), sscan), weight: 3 },
    { arbitrary: fc.tuple(fc.option(fc.string({ maxLength: 600 })), fc.option(sscan)), weight: 1 },
  );
  const tuple = fc
    .tuple(
      fc.oneof({ arbitrary: fc.constant(1), weight: 9 }, { arbitrary: fc.integer(), weight: 1 }),
      fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2 }), weight: 6 }, fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
      sscan,
      tail,
    )
    .map(([v, p, c, [after, end]]) => b64(JSON.stringify([v, p, c, after, end])));
  return fc.oneof({ arbitrary: tuple, weight: 6 }, fc.string({ minLength: 1, maxLength: 1100 }), fc.json().map(b64));
};
