/**
 * Bearer tokens of the API's clients, from a file, each with a name, the scopes it may use and
 * optionally its own rate limit. The file is JSON or text:
 *
 * - a JSON array whose entries are token strings or objects
 *   `{"token", "scopes": [...], "name"?, "rateLimit"?: {"perSecond"?, "burst"?}}`;
 * - a JSON object `{"tokens": [...]}` holding such an array;
 * - one token per line (blank lines and `#` comments ignored).
 *
 * A bare token string (the JSON array of strings, or a line) carries every scope: the formats
 * that predate scopes keep working as they did. A token without a name is named `token-<n>`
 * after its position in the file (1-based): names appear in metrics and 403 messages, secrets
 * never do.
 *
 * Comparison is constant-time: the candidate's SHA-256 is compared with every token's with
 * `timingSafeEqual`, always all of them, so neither the position of a match nor a shared
 * prefix shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Shortest token accepted: 128 bits of base64url. Shorter secrets can be guessed. */
export const MIN_TOKEN_LENGTH = 22;

/**
 * What a token may read. `customers:read` covers everything that reveals customer ids: a
 * customer's profile and history, and segment member lists. `segments:read` covers aggregate
 * counts only, for dashboards that must not see who is in a segment.
 */
export const SCOPES = ['customers:read', 'segments:read'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenEntry {
  /** The secret. */
  token: string;
  /** Label-safe name (metrics, 403 messages); never the secret. */
  name: string;
  scopes: readonly Scope[];
  /** This token's own limit; the configured default for what is unset. */
  rateLimit: { perSecond?: number; burst?: number };
}

const Secret = z
  .string()
  .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const Scoped = z.strictObject({
  token: Secret,
  scopes: z.array(z.enum(SCOPES)).min(1, `must list at least one of ${SCOPES.join(', ')}`),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, _ . : or -')
    .optional(),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().max(1_000_000).optional(),
      burst: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
});
const Entries = z.array(z.union([Secret, Scoped])).min(1, 'must list at least one token');
const TokensFile = z.union([Entries, z.object({ tokens: Entries })]);

/** Parses the content of a tokens file; throws an Error saying what is wrong (never echoing a token). */
export function parseTokens(text: string): TokenEntry[] {
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
  if (!parsed.success) throw new Error(describeIssues(parsed.error.issues));
  const entries = (Array.isArray(parsed.data) ? parsed.data : parsed.data.tokens).map(
    (e, i): TokenEntry =>
      typeof e === 'string'
        ? { token: e, name: `token-${i + 1}`, scopes: SCOPES, rateLimit: {} }
        : { token: e.token, name: e.name ?? `token-${i + 1}`, scopes: [...new Set(e.scopes)], rateLimit: e.rateLimit ?? {} },
  );
  const problems: string[] = [];
  entries.forEach((e, i) => {
    const first = entries.findIndex((o) => o.token === e.token);
    if (first < i) problems.push(`entry ${i}: the same token as entry ${first}`);
    const named = entries.findIndex((o) => o.name === e.name);
    if (named < i) problems.push(`entry ${i}: the same name as entry ${named} (${e.name})`);
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return entries;
}

/**
 * zod's issues as `entry <path>: <message>`. A union's issue lists what each branch made of the
 * entry; the branch that got furthest (longest paths) is the one meant. zod's messages state
 * what was expected, never the value received, so no token is echoed.
 */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const flat: Array<{ path: PropertyKey[]; message: string }> = [];
  const walk = (list: readonly z.core.$ZodIssue[], base: PropertyKey[]) => {
    for (const i of list) {
      if (i.code === 'invalid_union' && i.errors.length > 0) {
        const branches = i.errors.map((b) => b.map((x) => ({ ...x, path: [...base, ...i.path, ...x.path] })));
        const depth = (b: readonly z.core.$ZodIssue[]) => Math.max(...b.map((x) => x.path.length));
        const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
        walk(best as z.core.$ZodIssue[], []);
      } else flat.push({ path: [...base, ...i.path], message: i.message });
    }
  };
  walk(issues, []);
  return flat.map((i) => `${i.path.length > 0 ? `entry ${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class TokenSet {
  private readonly digests: readonly Buffer[];
  private readonly entries: readonly TokenEntry[];

  constructor(entries: readonly TokenEntry[]) {
    this.entries = entries;
    this.digests = entries.map((e) => digest(e.token));
  }

  get size(): number {
    return this.digests.length;
  }

  /** The entry whose token `candidate` is, or null. Every entry is compared, whatever matches. */
  verify(candidate: string): TokenEntry | null {
    const d = digest(candidate);
    let match = -1;
    for (let i = 0; i < this.digests.length; i++) {
      const equal = timingSafeEqual(d, this.digests[i] as Buffer);
      match = equal ? i : match;
    }
    return this.entries[match] ?? null;
  }
}
