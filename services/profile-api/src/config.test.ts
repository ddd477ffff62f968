import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'profile-api-config-'));
const tokensFile = join(dir, 'tokens');
writeFileSync(tokensFile, 'tok_aaaaaaaaaaaaaaaaaaaaaaaa\n');
const base = { REDIS_URL: 'redis://127.0.0.1:6379', PROFILE_API_TOKENS_FILE: tokensFile };

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ keyPrefix: 'crm', partitions: 6, port: 8080, tokens: ['tok_aaaaaaaaaaaaaaaaaaaaaaaa'] });
    expect(c.domain.segments).toEqual([]);
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
