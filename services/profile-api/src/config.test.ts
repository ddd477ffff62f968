import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { SCOPES } from './tokens.ts';
import { selfSignedCert } from './testing/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'profile-api-config-'));
const tokensFile = join(dir, 'tokens');
writeFileSync(tokensFile, 'tok_aaaaaaaaaaaaaaaaaaaaaaaa\n');
const base = { REDIS_URL: 'redis://127.0.0.1:6379', PROFILE_API_TOKENS_FILE: tokensFile };

describe('loadConfig', () => {
  it('applies the defaults: loopback, plain HTTP, 100 requests a second in bursts of 200', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ keyPrefix: 'crm', partitions: 6, port: 8080, host: '127.0.0.1', tls: null, rateLimit: { perSecond: 100, burst: 200 } });
    expect(c.tokens).toEqual([{ token: 'tok_aaaaaaaaaaaaaaaaaaaaaaaa', name: 'token-1', scopes: SCOPES, rateLimit: {} }]);
    expect(c.domain.segments).toEqual([]);
    expect(c.clock).toBe('wall');
  });

  it('reads CRM_CLOCK, the instant of reads without `at`, and refuses any other value naming it', () => {
    expect(loadConfig({ ...base, CRM_CLOCK: 'stream' }).clock).toBe('stream');
    expect(() => loadConfig({ ...base, CRM_CLOCK: 'event' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, CRM_CLOCK: 'event' })).toThrow(/CRM_CLOCK/);
  });

  it("reads CRM_TOPIC_SUFFIX, the segmenter's (none by default), and refuses one no topic name could carry, naming it", () => {
    expect(loadConfig(base).topicSuffix).toBe('');
    expect(loadConfig({ ...base, CRM_TOPIC_SUFFIX: '.staging' }).topicSuffix).toBe('.staging');
    expect(() => loadConfig({ ...base, CRM_TOPIC_SUFFIX: '/x' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, CRM_TOPIC_SUFFIX: '/x' })).toThrow(/CRM_TOPIC_SUFFIX/);
  });

  it('reads the rate limit and the certificate files', () => {
    const tls = selfSignedCert();
    const c = loadConfig({
      ...base,
      PROFILE_API_RATE_LIMIT: '0.5',
      PROFILE_API_RATE_LIMIT_BURST: '10',
      PROFILE_API_TLS_CERT_FILE: tls.certFile,
      PROFILE_API_TLS_KEY_FILE: tls.keyFile,
    });
    expect(c.rateLimit).toEqual({ perSecond: 0.5, burst: 10 });
    expect(c.tls?.cert).toBe(tls.cert);
    expect(c.tls?.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses one TLS file without the other, naming the missing variable', () => {
    const tls = selfSignedCert();
    expect(() => loadConfig({ ...base, PROFILE_API_TLS_CERT_FILE: tls.certFile })).toThrow(
      /PROFILE_API_TLS_KEY_FILE: is required when PROFILE_API_TLS_CERT_FILE is set/,
    );
    expect(() => loadConfig({ ...base, PROFILE_API_TLS_KEY_FILE: tls.keyFile })).toThrow(
      /PROFILE_API_TLS_CERT_FILE: is required when PROFILE_API_TLS_KEY_FILE is set/,
    );
  });

  it('refuses TLS files that cannot be read or are no certificate and key, never quoting the key', () => {
    const tls = selfSignedCert();
    const other = selfSignedCert();
    expect(() => loadConfig({ ...base, PROFILE_API_TLS_CERT_FILE: join(dir, 'no-cert.pem'), PROFILE_API_TLS_KEY_FILE: tls.keyFile })).toThrow(
      /^PROFILE_API_TLS_CERT_FILE: cannot read .*no-cert\.pem/,
    );
    for (const [cert, key] of [
      [tls.certFile, other.keyFile],
      [tls.keyFile, tls.certFile],
      [tokensFile, tls.keyFile],
    ] as const) {
      let message = '';
      try {
        loadConfig({ ...base, PROFILE_API_TLS_CERT_FILE: cert, PROFILE_API_TLS_KEY_FILE: key });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/^PROFILE_API_TLS_CERT_FILE \(.*\) and PROFILE_API_TLS_KEY_FILE \(.*\) are not a usable PEM certificate and key: /);
      expect(message).not.toContain('PRIVATE KEY');
    }
  });

  it('reads PROFILE_API_HOST and refuses a value no address could be, naming it', () => {
    expect(loadConfig({ ...base, PROFILE_API_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(() => loadConfig({ ...base, PROFILE_API_HOST: 'http://0.0.0.0' })).toThrow(/PROFILE_API_HOST: must be an IP address or host name/);
  });

  it('refuses a rate limit that is not a positive number', () => {
    expect(() => loadConfig({ ...base, PROFILE_API_RATE_LIMIT: '0' })).toThrow(/PROFILE_API_RATE_LIMIT: /);
    expect(() => loadConfig({ ...base, PROFILE_API_RATE_LIMIT_BURST: '1.5' })).toThrow(/PROFILE_API_RATE_LIMIT_BURST: /);
  });

  it('names every bad variable', () => {
    const err = (() => {
      try {
        loadConfig({ REDIS_URL: 'http://x', CRM_PARTITIONS: '0', PROFILE_API_PORT: 'http' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['REDIS_URL', 'CRM_PARTITIONS', 'PROFILE_API_PORT', 'PROFILE_API_TOKENS_FILE']) expect(err.message).toContain(name);
  });

  it('names the tokens file and the domain config when they cannot be used', () => {
    expect(() => loadConfig({ ...base, PROFILE_API_TOKENS_FILE: join(dir, 'missing') })).toThrow(/PROFILE_API_TOKENS_FILE .*missing/);
    const bad = join(dir, 'domain.json');
    writeFileSync(bad, '{"segments": [{"name": "bad name!"}]}');
    expect(() => loadConfig({ ...base, CRM_DOMAIN_CONFIG: bad })).toThrow(/CRM_DOMAIN_CONFIG/);
  });
});
