/**
 * The opaque cursor of segment member paging. It encodes where the walk over the
 * partitions' sets stands:
 *
 * - `p`: the partition whose set is being scanned;
 * - `c`: the SSCAN cursor to call next on that set;
 * - `after`/`end`: set when the page ended inside the reply of SSCAN at `c`: that reply,
 *   sorted, was delivered up to and including `after`, and it returned cursor `end`.
 *
 * Encoded as base64url JSON with a version, so it can change shape later; clients must treat
 * it as opaque. Anything that does not decode to a valid position is a 400.
 */
import { z } from 'zod';

export interface MemberCursor {
  p: number;
  /** Decimal SSCAN cursor (Redis cursors are unsigned 64-bit: kept as a string). */
  c: string;
  after: string | null;
  end: string | null;
}

const VERSION = 1;
/** Largest SSCAN cursor: Redis cursors are unsigned 64-bit, and Redis refuses any beyond. */
const MAX_SSCAN_CURSOR = 2n ** 64n - 1n;
const SscanCursor = z.string().refine((c) => /^(0|[1-9][0-9]{0,19})$/.test(c) && BigInt(c) <= MAX_SSCAN_CURSOR);
const Encoded = z.tuple([z.literal(VERSION), z.number().int().min(0), SscanCursor, z.string().min(1).max(512).nullable(), SscanCursor.nullable()]);

/** The first position: partition 0, a fresh scan. */
export const START: MemberCursor = { p: 0, c: '0', after: null, end: null };

export function encodeCursor(c: MemberCursor): string {
  return Buffer.from(JSON.stringify([VERSION, c.p, c.c, c.after, c.end]), 'utf8').toString('base64url');
}

export class CursorError extends Error {
  override name = 'CursorError';
}

const NOT_A_CURSOR = 'cursor is not a cursor returned by this API: pass nextCursor of the previous page unchanged, or none for the first page';

/**
 * Decodes a cursor of a walk over `partitions` partitions; throws CursorError when it is not
 * one. Whatever the text, the result is a position Redis accepts (an SSCAN cursor within
 * 64 bits, a partition that exists) or a CursorError: never an error from Redis later.
 */
export function decodeCursor(text: string, partitions: number): MemberCursor {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(text)) throw new CursorError(NOT_A_CURSOR);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError(NOT_A_CURSOR);
  }
  const parsed = Encoded.safeParse(raw);
  if (!parsed.success) throw new CursorError(NOT_A_CURSOR);
  const [, p, c, after, end] = parsed.data;
  if (p >= partitions) throw new CursorError(`cursor points at partition ${p}, but there are ${partitions}: it is from another deployment`);
  if ((after === null) !== (end === null)) throw new CursorError(NOT_A_CURSOR);
  return { p, c, after, end };
}
