/**
 * Bearer tokens of the API's clients, from a file: a JSON array of strings, a JSON object
 * `{"tokens": [...]}`, or one token per line (blank lines and `#` comments ignored).
 * Comparison is constant-time: the candidate's SHA-256 is compared with every token's with
 * `timingSafeEqual`, always all of them, so neither the position of a match nor a shared
 * prefix shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Shortest token accepted: 128 bits of base64url. Shorter secrets can be guessed. */
export const MIN_TOKEN_LENGTH = 22;

const Token = z
  .string()
  .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const TokenList = z.array(Token).min(1, 'must list at least one token');
const TokensFile = z.union([TokenList, z.object({ tokens: TokenList })]);

/** Parses the content of a tokens file; throws an Error saying what is wrong (never echoing a token). */
export function parseTokens(text: string): string[] {
  const trimmed = text.trim();
  let candidate: unknown;
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      candidate = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`);
    }
  } else {
    candidate = trimmed
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  }
  const parsed = TokensFile.safeParse(candidate);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.length > 0 ? `entry ${i.path.join('.')}: ` : ''}${i.message}`).join('; '));
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.tokens;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class TokenSet {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** True when `candidate` is one of the tokens. */
  verify(candidate: string): boolean {
    const d = digest(candidate);
    let ok = false;
    for (const t of this.digests) ok = timingSafeEqual(d, t) || ok;
    return ok;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return m?.[1] ?? null;
}
