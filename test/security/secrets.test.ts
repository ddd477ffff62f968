/**
 * Secrets never leave a process in its output. Each service (segmenter, lag monitor, profile
 * API) and the CLI runs as operators run it, against a Redis of the test's own that wants an ACL
 * user and a password, given the wrong password (from a file, as a variable, inside the URL) or
 * a malformed URL that holds one. Everything it writes to stdout and stderr is searched for the
 * secret, and the process must say what is wrong in one line. The right password, as a control,
 * gets through.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type OwnRedis, startOwnRedis, testEndpoints, testKafka, uniqueName, waitFor } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, LAG_MONITOR, PROFILE_API, SEGMENTER, linesMatching, run } from './helpers.ts';

const USER = 'segmenter';
const RIGHT = 'right-Pa55word-of-the-acl-user';
/** The wrong password an operator typed: as secret as the right one. */
const WRONG = 'wr0ng-Pa55word-never-to-be-seen';

describe('secrets in the output of every process', () => {
  let redis: OwnRedis;
  let redisUrl: string;
  let wrongFile: string;
  let rightFile: string;
  let tokensFile: string;
  const suffix = uniqueName('secrets');

  beforeAll(async () => {
    // The default user is off: only the ACL user gets in.
    redis = await startOwnRedis(() => ['--user', 'default', 'off', '--user', USER, 'on', `>${RIGHT}`, '~*', '&*', '+@all']);
    redisUrl = `redis://127.0.0.1:${redis.port}`;
    wrongFile = join(redis.dir, 'wrong-password');
    rightFile = join(redis.dir, 'right-password');
    tokensFile = join(redis.dir, 'tokens.json');
    writeFileSync(wrongFile, `${WRONG}\n`);
    writeFileSync(rightFile, `${RIGHT}\n`);
    writeFileSync(tokensFile, JSON.stringify({ tokens: ['tok_secrets_test_0000000000000001'] }));
  });
  afterAll(async () => {
    await redis?.stop();
    const admin = testKafka().admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.endsWith(suffix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });

  /** The profile API's environment as the ACL user, with `password` (a variable or a file). */
  const profileApi = (password: Record<string, string>) => ({
    REDIS_URL: redisUrl,
    REDIS_USERNAME: USER,
    ...password,
    PROFILE_API_PORT: '0',
    PROFILE_API_HOST: '127.0.0.1',
    PROFILE_API_TOKENS_FILE: tokensFile,
  });

  const refusedLine = /refused the credentials of user segmenter .*check REDIS_USERNAME and REDIS_PASSWORD_FILE/;

  it('segmenter: a wrong password from a file stops the start (exit 78), reported in one line, never written', async () => {
    const p = run(SEGMENTER, {
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      REDIS_URL: redisUrl,
      REDIS_USERNAME: USER,
      REDIS_PASSWORD_FILE: wrongFile,
      CRM_TOPIC_SUFFIX: suffix,
      CRM_GROUP_ID: suffix,
      CRM_KEY_PREFIX: suffix,
      CRM_HTTP_PORT: '0',
      CRM_TIMER_INTERVAL_MS: '20',
    });
    // Wrong settings, not an outage: it stops at start, as it does when Kafka refuses its credentials.
    expect(await p.exited).toBe(78);
    const out = p.output();
    expect(out).not.toContain('"msg":"segmenter started"');
    expect(linesMatching(out, /"level":60.*stopping: Redis at .* refused user segmenter: fix REDIS_USERNAME \/ REDIS_PASSWORD_FILE/)).toHaveLength(1);
    expect(linesMatching(out, refusedLine)).toHaveLength(1);
    expect(out).not.toContain(WRONG);
    expect(out).not.toContain(RIGHT);
  });

  it('profile API: a wrong password in a variable stops the start with the reason in one line, never written', async () => {
    const p = run(PROFILE_API, profileApi({ REDIS_PASSWORD: WRONG }));
    expect(await p.exited).toBe(78);
    const out = p.output();
    expect(linesMatching(out, refusedLine)).toHaveLength(1);
    expect(out).not.toContain(WRONG);
  });

  it('profile API: the right password from a file gets the ACL user in (the control)', async () => {
    const p = run(PROFILE_API, profileApi({ REDIS_PASSWORD_FILE: rightFile }));
    await waitFor('the profile API listening', () => p.output().includes('"msg":"profile API listening"') || p.child.exitCode !== null);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).not.toContain(RIGHT);
  });

  it('CLI: a wrong password inside the URL is one line on stderr (exit 2), never written; the right one works', async () => {
    const wrong = run(
      CLI,
      { KAFKA_BROKERS: testEndpoints().kafkaBrokers, REDIS_URL: `redis://${USER}:${WRONG}@127.0.0.1:${redis.port}`, CRM_KEY_PREFIX: suffix },
      ['segments'],
    );
    expect(await wrong.exited).toBe(2);
    expect(wrong.output()).toBe(
      `crm: Redis at redis://${USER}:***@127.0.0.1:${redis.port} refused the credentials of user ${USER} (WRONGPASS invalid username-password pair or user is disabled.): check REDIS_USERNAME and REDIS_PASSWORD_FILE\n`,
    );

    const right = run(
      CLI,
      { KAFKA_BROKERS: testEndpoints().kafkaBrokers, REDIS_URL: redisUrl, REDIS_USERNAME: USER, REDIS_PASSWORD_FILE: rightFile, CRM_KEY_PREFIX: suffix },
      ['segments'],
    );
    expect(await right.exited).toBe(0);
    expect(right.output()).not.toContain(RIGHT);
  });

  it('lag monitor: a SASL password the broker cannot take is never written', async () => {
    // The shared broker has no SASL listener: the handshake fails, the password must not show.
    const p = run(LAG_MONITOR, {
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: 'lag-monitor',
      KAFKA_SASL_PASSWORD: WRONG,
      LAG_HTTP_PORT: '0',
      LAG_GROUP_PREFIX: suffix,
    });
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toContain('SASL');
    expect(out).toContain('"msg":"lag monitor failed to start"');
    expect(out).not.toContain(WRONG);
  });

  describe('a malformed URL that holds a password: exit 78 (the CLI: 2), one line naming the variable, the password never echoed', () => {
    // A missing colon after the scheme; a port that is no port.
    const malformed = [`redis//${USER}:${WRONG}@127.0.0.1:6379`, `redis://${USER}:${WRONG}@127.0.0.1:port`];

    for (const url of malformed) {
      it(`REDIS_URL=${url.replace(WRONG, '<password>')}`, async () => {
        const runs = [
          { name: 'segmenter', p: run(SEGMENTER, { KAFKA_BROKERS: testEndpoints().kafkaBrokers, REDIS_URL: url }), code: 78 },
          { name: 'profile-api', p: run(PROFILE_API, { REDIS_URL: url, PROFILE_API_TOKENS_FILE: tokensFile }), code: 78 },
          { name: 'crm', p: run(CLI, { KAFKA_BROKERS: testEndpoints().kafkaBrokers, REDIS_URL: url }, ['segments']), code: 2 },
        ];
        for (const { name, p, code } of runs) {
          expect(await p.exited, name).toBe(code);
          const out = p.output();
          expect(out, name).not.toContain(WRONG);
          expect(linesMatching(out, /REDIS_URL: /), name).toHaveLength(1);
        }
      });
    }

    it('lag monitor: KAFKA_SASL_PASSWORD beside a protocol that cannot take it', async () => {
      const p = run(LAG_MONITOR, { KAFKA_BROKERS: testEndpoints().kafkaBrokers, KAFKA_SECURITY_PROTOCOL: 'SSL ', KAFKA_SASL_PASSWORD: WRONG });
      expect(await p.exited).toBe(78);
      const out = p.output();
      expect(out).not.toContain(WRONG);
      expect(linesMatching(out, /KAFKA_SECURITY_PROTOCOL: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL \(got "SSL "\)/)).toHaveLength(1);
    });
  });
});
