/**
 * The opaque cursor of paged walks over the partitions: segment members (SSCAN of each
 * partition's set) and customers (HSCAN of each partition's state hash, or SSCAN of a
 * segment's sets with `where`). It encodes where the walk stands:
 *
 * - `p`: the partition whose set or hash is being scanned;
 * - `c`: the SCAN-family cursor to call next on it;
 * - `after`/`end`: set when the page ended inside the reply of the scan at `c`: that reply,
 *   sorted, was delivered up to and including `after`, and it returned cursor `end`.
 *
 * A customer walk's cursor also names its walk (`customers`, or `customers?<where>`), so a
 * cursor is refused by another listing, whose key it would scan at a meaningless position.
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
const Position = [z.literal(VERSION), z.number().int().min(0), SscanCursor, z.string().min(1).max(512).nullable(), SscanCursor.nullable()] as const;
// A position, and the walk it belongs to (none for segment members).
const Encoded = z.union([z.tuple([...Position]), z.tuple([...Position, z.string().min(1).max(256)])]);

/** The first position: partition 0, a fresh scan. */
export const START: MemberCursor = { p: 0, c: '0', after: null, end: null };

/** `walk` names the listing (none for segment members: their cursors predate walks). */
export function encodeCursor(c: MemberCursor, walk?: string): string {
  const tuple = [VERSION, c.p, c.c, c.after, c.end, ...(walk === undefined ? [] : [walk])];
  return Buffer.from(JSON.stringify(tuple), 'utf8').toString('base64url');
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
export function decodeCursor(text: string, partitions: number, walk?: string): MemberCursor {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(text)) throw new CursorError(NOT_A_CURSOR);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError(NOT_A_CURSOR);
  }
  const parsed = Encoded.safeParse(raw);
  if (!parsed.success) throw new CursorError(NOT_A_CURSOR);
  const [, p, c, after, end, of] = parsed.data.length === 5 ? [...parsed.data, undefined] : parsed.data;
  if (of !== walk)
    throw new CursorError(
      `cursor is from another listing: pass nextCursor of the previous page of this listing (same ${walk === undefined ? 'route' : 'route and where'})`,
    );
  if (p >= partitions) throw new CursorError(`cursor points at partition ${p}, but there are ${partitions}: it is from another deployment`);
  if ((after === null) !== (end === null)) throw new CursorError(NOT_A_CURSOR);
  return { p, c, after, end };
}
