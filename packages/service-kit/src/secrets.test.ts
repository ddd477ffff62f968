import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv } from './config.ts';
import { maskUrlPasswords, quotableValue, redactSecrets, registerSecret } from './secrets.ts';
import { configError } from './testing.ts';

describe('redactSecrets', () => {
  it('masks every registered secret, in its raw, JSON-escaped and URL-encoded forms, longest first', () => {
    registerSecret('pa"ss/wd');
    registerSecret('pa"ss/wd-longer');
    expect(redactSecrets('a pa"ss/wd b')).toBe('a *** b');
    expect(redactSecrets(JSON.stringify({ msg: 'x pa"ss/wd-longer y' }))).toBe('{"msg":"x *** y"}');
    expect(redactSecrets('redis://u:pa%22ss%2Fwd@h')).toBe('redis://u:***@h');
  });

  it('masks the password of any URL with userinfo, even an unknown one', () => {
    expect(maskUrlPasswords('cannot reach rediss://app:never-seen@h:6380/0 and http://:x@reg')).toBe(
      'cannot reach rediss://app:***@h:6380/0 and http://:***@reg',
    );
    expect(maskUrlPasswords('redis://u:p@ss@host:1')).toBe('redis://u:***@host:1');
    expect(maskUrlPasswords('redis://user-only@host http://h/a:b@c')).toBe('redis://user-only@host http://h/a:b@c');
  });
});

describe("ConfigError's quoted values", () => {
  const Schema = z.object({ REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'), KAFKA_SASL_PASSWORD: z.string().min(40) });

  it('never echo a URL password nor a *_PASSWORD variable', () => {
    const { message } = configError(() => parseEnv(Schema, { REDIS_URL: 'redis//app:url-secret-1@h:6379', KAFKA_SASL_PASSWORD: 'var-secret-1' }));
    expect(message).toContain('REDIS_URL: must be a redis:// URL (got "***@h:6379")');
    expect(message).toContain('KAFKA_SASL_PASSWORD: Too small');
    expect(message).toContain('(got "***")');
    expect(message).not.toMatch(/url-secret-1|var-secret-1/);
  });

  it('keep what helps: the scheme and the host', () => {
    expect(quotableValue('REDIS_URL', 'http://u:pw@host:1')).toBe('http://***@host:1');
    expect(quotableValue('REDIS_URL', 'localhost:6379')).toBe('localhost:6379');
    expect(quotableValue('CRM_METRICS_TOKEN_FILE', '/run/secrets/t')).toBe('/run/secrets/t');
    expect(quotableValue('PROFILE_API_TOKEN', 'abc')).toBe('***');
  });
});
