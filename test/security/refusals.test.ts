/**
 * The secured servers refuse what they must, and the project's processes say why in one line
 * naming the variables to check, without a stack and without writing a secret: a wrong SASL
 * password (the segmenter stops at start, exit 78), a CA that did not sign the server's
 * certificate (Kafka: the lag monitor, exit 78; Redis: the profile API), a plaintext client on a
 * TLS port (Kafka: the lag monitor; Redis: the profile API), and the CLI on each of the Kafka
 * ones. Each runs with the printed settings (`secureServers().env`) but for the one it breaks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, secureKeyPrefix, secureServers, uniqueName } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, LAG_MONITOR, PROFILE_API, type Run, SEGMENTER, type SecureServers, leaked, linesMatching, profileSecrets, run, without } from './helpers.ts';

const WRONG = 'wr0ng-SASL-Pa55word-never-written';
const TOKEN = 'tok_refusals_test_00000000000000001';
const TLS_VARIABLES = ['KAFKA_SSL_CA_FILE', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE'];

/** One process's refusal: its exit code, the lines matching `reason`, and what it must not write. */
async function refused(r: Run, reason: RegExp, secrets: readonly string[]): Promise<{ code: number | null; reasons: string[] }> {
  const code = await r.exited;
  const out = r.output();
  expect(leaked(out, secrets), out).toEqual([]);
  // Node's internals are nobody's business: no stack trace in any line.
  expect(linesMatching(out, /\\n\s+at |"stack"/), out).toEqual([]);
  return { code, reasons: linesMatching(out, reason) };
}

describe('refusals by the secured servers, as the processes report them', () => {
  let s: SecureServers;
  let secrets: string[];
  const dir = mkdtempSync(join(tmpdir(), 'crm-refusals-'));
  const file = (name: string) => join(dir, name);
  const isolation = () => {
    const id = uniqueName('refused');
    return { CRM_KEY_PREFIX: secureKeyPrefix(), CRM_TOPIC_SUFFIX: `.${id}`, CRM_GROUP_ID: `crm-${id}` };
  };

  beforeAll(async () => {
    s = await secureServers();
    makeCa(dir, 'other-ca');
    writeFileSync(file('wrong-password'), `${WRONG}\n`);
    writeFileSync(file('tokens.json'), JSON.stringify([TOKEN]));
    secrets = [...profileSecrets(s), WRONG, TOKEN];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a wrong SASL password: the segmenter stops at start (78) naming the KAFKA_SASL_* variables', async () => {
    const p = run(SEGMENTER, { ...s.env, ...isolation(), KAFKA_SASL_PASSWORD_FILE: file('wrong-password'), CRM_HTTP_PORT: '0' });
    const { code, reasons } = await refused(
      p,
      /Kafka refused the SASL credentials .*check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_SASL_MECHANISM/,
      secrets,
    );
    expect(code).toBe(78);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain('"msg":"segmenter failed to start: Kafka refused the SASL credentials');
  });

  it('a wrong SASL password: the CLI says so on one line naming the variables (exit 2, a usage error)', async () => {
    for (const command of [['lag'], ['topics', 'describe']]) {
      const p = run(CLI, { ...s.env, ...isolation(), KAFKA_SASL_PASSWORD_FILE: file('wrong-password') }, command);
      const { code, reasons } = await refused(
        p,
        /^crm: Kafka refused the SASL credentials .*check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_SASL_MECHANISM/,
        secrets,
      );
      expect(code, command.join(' ')).toBe(2);
      expect(p.output().trim().split('\n'), command.join(' ')).toEqual(reasons);
      expect(reasons).toHaveLength(1);
    }
  });

  it("a CA that did not sign Kafka's certificate: the lag monitor stops at start (78) naming KAFKA_SSL_CA_FILE", async () => {
    const p = run(LAG_MONITOR, { ...s.env, KAFKA_SSL_CA_FILE: file('other-ca.pem'), LAG_HTTP_PORT: '0', LAG_GROUP_PREFIX: 'crm-refused-' });
    const { code, reasons } = await refused(p, /Kafka's TLS certificate is not trusted .*check KAFKA_SSL_CA_FILE/, secrets);
    expect(code).toBe(78);
    expect(reasons).toHaveLength(1);
  });

  it('a plaintext client on the SASL_SSL port: the lag monitor stops at start naming KAFKA_SECURITY_PROTOCOL', async () => {
    const plaintext = without(s.env, TLS_VARIABLES);
    const p = run(LAG_MONITOR, { ...plaintext, KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', LAG_HTTP_PORT: '0', LAG_GROUP_PREFIX: 'crm-refused-' });
    const { code, reasons } = await refused(p, /Kafka closed the connection before answering: check that KAFKA_SECURITY_PROTOCOL matches/, secrets);
    expect(code).toBe(1);
    expect(reasons).toHaveLength(1);
  });

  /** The profile API's settings as the read-only user, with `overrides`. */
  const apiEnv = (overrides: Record<string, string>) => ({
    ...s.env,
    ...s.readerEnv,
    ...isolation(),
    PROFILE_API_PORT: '0',
    PROFILE_API_TOKENS_FILE: file('tokens.json'),
    ...overrides,
  });

  it("a CA that did not sign Redis' certificate: the profile API does not start, one line names REDIS_TLS_CA_FILE", async () => {
    const p = run(PROFILE_API, apiEnv({ REDIS_TLS_CA_FILE: file('other-ca.pem') }));
    const { code, reasons } = await refused(p, /its TLS certificate is not trusted .*check REDIS_TLS_CA_FILE/, secrets);
    expect(code).toBe(1);
    expect(reasons).toHaveLength(1);
  });

  it('redis:// on the TLS-only port: the profile API does not start, one line suggests rediss://', async () => {
    const plain = Object.fromEntries(Object.entries(apiEnv({})).filter(([k]) => !k.startsWith('REDIS_TLS_')));
    const p = run(PROFILE_API, { ...plain, REDIS_URL: s.redisUrl.replace('rediss://', 'redis://') });
    const { code, reasons } = await refused(p, /if the server listens with TLS, use rediss:\/\/ in REDIS_URL/, secrets);
    expect(code).toBe(1);
    expect(reasons).toHaveLength(1);
  });
});
