import { describe, expect, it } from 'vitest';
import { TokenSet, bearerToken, parseTokens } from './tokens.ts';

const A = 'tok_aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'tok_bbbbbbbbbbbbbbbbbbbbbbbb';

describe('tokens file', () => {
  it('reads a JSON array, a JSON object and one token per line', () => {
    expect(parseTokens(JSON.stringify([A, B]))).toEqual([A, B]);
    expect(parseTokens(JSON.stringify({ tokens: [A] }))).toEqual([A]);
    expect(parseTokens(`# campaign engine\n${A}\n\n  ${B}  \n`)).toEqual([A, B]);
  });

  it('refuses empty files, short tokens and broken JSON without echoing a token', () => {
    expect(() => parseTokens('# nothing\n')).toThrow(/at least one token/);
    expect(() => parseTokens('short-secret')).toThrow(/at least 22 characters/);
    expect(() => parseTokens('[1, 2')).toThrow(/not valid JSON/);
    expect(() => parseTokens(JSON.stringify([A, 'tiny-secret']))).toThrow(/^entry 1: must be at least 22 characters$/);
  });
});

describe('TokenSet', () => {
  const set = new TokenSet([A, B]);
  it('accepts listed tokens only', () => {
    expect(set.verify(A)).toBe(true);
    expect(set.verify(B)).toBe(true);
    expect(set.verify(`${A}x`)).toBe(false);
    expect(set.verify(A.slice(0, -1))).toBe(false);
    expect(set.verify('')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header only', () => {
    expect(bearerToken(`Bearer ${A}`)).toBe(A);
    expect(bearerToken(`bearer ${A}`)).toBe(A);
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(`Basic ${A}`)).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(`Bearer ${A} extra`)).toBeNull();
  });
});
