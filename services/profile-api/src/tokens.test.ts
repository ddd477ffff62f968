import { describe, expect, it } from 'vitest';
import { SCOPES, TokenSet, parseTokens } from './tokens.ts';

const A = 'tok_aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'tok_bbbbbbbbbbbbbbbbbbbbbbbb';

const secrets = (text: string) => parseTokens(text).map((e) => e.token);

describe('tokens file', () => {
  it('reads a JSON array, a JSON object and one token per line, as tokens of every scope', () => {
    expect(secrets(JSON.stringify([A, B]))).toEqual([A, B]);
    expect(secrets(JSON.stringify({ tokens: [A] }))).toEqual([A]);
    expect(secrets(`# campaign engine\n${A}\n\n  ${B}  \n`)).toEqual([A, B]);
    expect(parseTokens(`${A}\n${B}\n`)).toEqual([
      { token: A, name: 'token-1', scopes: SCOPES, rateLimit: {} },
      { token: B, name: 'token-2', scopes: SCOPES, rateLimit: {} },
    ]);
  });

  it('reads scoped entries with a name and a rate limit, beside bare tokens', () => {
    const file = JSON.stringify([
      { token: A, scopes: ['segments:read', 'segments:read'], name: 'dashboard', rateLimit: { perSecond: 0.5, burst: 3 } },
      B,
      { token: `${A}2`, scopes: ['customers:read'] },
    ]);
    expect(parseTokens(file)).toEqual([
      { token: A, name: 'dashboard', scopes: ['segments:read'], rateLimit: { perSecond: 0.5, burst: 3 } },
      { token: B, name: 'token-2', scopes: SCOPES, rateLimit: {} },
      { token: `${A}2`, name: 'token-3', scopes: ['customers:read'], rateLimit: {} },
    ]);
  });

  it('refuses empty files, short tokens and broken JSON without echoing a token', () => {
    expect(() => parseTokens('# nothing\n')).toThrow(/at least one token/);
    expect(() => parseTokens('short-secret')).toThrow(/at least 22 characters/);
    expect(() => parseTokens('[1, 2')).toThrow(/not valid JSON/);
    expect(() => parseTokens(JSON.stringify([A, 'tiny-secret']))).toThrow(/^entry 1: must be at least 22 characters$/);
  });

  it.each([
    ['an unknown scope', { token: A, scopes: ['customers:write'] }, /^entry 0\.scopes\.0: Invalid option: expected one of "customers:read"\|"segments:read"$/],
    ['no scope', { token: A, scopes: [] }, /^entry 0\.scopes: must list at least one of customers:read, segments:read$/],
    ['no token', { scopes: ['segments:read'] }, /^entry 0\.token: /],
    ['a short token', { token: 'tiny-secret', scopes: ['segments:read'] }, /^entry 0\.token: must be at least 22 characters$/],
    ['a name unfit for a label', { token: A, scopes: ['segments:read'], name: 'campaign engine' }, /^entry 0\.name: must be 1-64/],
    ['a zero rate', { token: A, scopes: ['segments:read'], rateLimit: { perSecond: 0 } }, /^entry 0\.rateLimit\.perSecond: /],
    ['a fractional burst', { token: A, scopes: ['segments:read'], rateLimit: { burst: 1.5 } }, /^entry 0\.rateLimit\.burst: /],
    ['a misspelt field', { token: A, scopes: ['segments:read'], rate: {} }, /^entry 0: Unrecognized key: "rate"$/],
  ])('refuses an entry with %s, saying where', (_what, entry, message) => {
    let thrown: Error | undefined;
    try {
      parseTokens(JSON.stringify([entry]));
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toMatch(message);
    expect(thrown?.message).not.toContain(A);
    expect(thrown?.message).not.toContain('tiny-secret');
  });

  it('refuses a token or a name listed twice, without echoing the token', () => {
    expect(() => parseTokens(JSON.stringify([A, { token: A, scopes: ['segments:read'] }]))).toThrow(/^entry 1: the same token as entry 0$/);
    expect(() =>
      parseTokens(
        JSON.stringify([
          { token: A, scopes: ['segments:read'], name: 'x' },
          { token: B, scopes: ['segments:read'], name: 'x' },
        ]),
      ),
    ).toThrow(/^entry 1: the same name as entry 0 \(x\)$/);
    expect(() => parseTokens(JSON.stringify([{ token: A, scopes: ['segments:read'], name: 'token-2' }, B]))).toThrow(/entry 1: the same name as entry 0/);
  });
});

describe('TokenSet', () => {
  const entries = parseTokens(JSON.stringify([A, { token: B, scopes: ['segments:read'], name: 'dashboard' }]));
  const set = new TokenSet(entries);
  it('finds the entry of listed tokens only', () => {
    expect(set.verify(A)).toBe(entries[0]);
    expect(set.verify(B)?.name).toBe('dashboard');
    expect(set.verify(`${A}x`)).toBeNull();
    expect(set.verify(A.slice(0, -1))).toBeNull();
    expect(set.verify('')).toBeNull();
    expect(new TokenSet([]).verify(A)).toBeNull();
  });
});
