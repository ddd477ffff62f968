/**
 * What the compiled fast paths (fast-parse.ts in front of zod, avro-writer.ts in front of avsc)
 * return for a value they do not cover exactly as the library would: the caller then asks the
 * library. A symbol, since a parser's result can be any value, a number included.
 */
export const REFUSED: unique symbol = Symbol('refused');
