/**
 * The least-privilege Redis users documented in docs/redis-acl.conf are enough, and no more:
 * a Redis of the test's own gets exactly those users; the segmenter (as a process, quantile
 * scoring and fast timers so that every code path's commands run) applies events as
 * `crm-segmenter`, the profile API serves them as `crm-profile-api`, the CLI reads them as
 * `crm-console`, and none sees a NOPERM. The readers cannot write, nor touch another prefix's keys.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suffixedTopics } from '@crm/contracts';
import { DAY_MS, type OwnRedis, createTopic, generateEvents, startOwnRedis, testEndpoints, testKafka, uniqueName, waitFor } from '@crm/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PROFILE_API, REFUSED_COMMAND, SEGMENTER, listeningAddress, repoPath, run } from './helpers.ts';

const ADMIN_PASSWORD = 'acl-test-admin';
const PARTITIONS = 2;
const TOKEN = 'tok_redis_acl_test_000000000000001';

/** docs/redis-acl.conf's users, for `prefix`, each with `password`: redis-server arguments. */
function documentedUsers(prefix: string, password: string): string[] {
  const lines = readFileSync(repoPath('docs/redis-acl.conf'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('user '));
  expect(lines.map((l) => l.split(' ')[1])).toEqual(['crm-segmenter', 'crm-profile-api', 'crm-console']);
  return lines.flatMap((l) => ['--user', ...l.replaceAll('~crm:*', `~${prefix}:*`).split(' ').slice(1), `>${password}`]);
}

describe('the documented Redis ACL users', () => {
  const prefix = uniqueName('acl');
  const suffix = `.${prefix}`;
  const topics = suffixedTopics(suffix);
  const password = `${prefix}-password`;
  let redis: OwnRedis;
  let admin: Redis;
  let passwordFile: string;

  beforeAll(async () => {
    redis = await startOwnRedis(() => ['--requirepass', ADMIN_PASSWORD, ...documentedUsers(prefix, password)]);
    admin = new Redis({ port: redis.port, password: ADMIN_PASSWORD });
    passwordFile = join(redis.dir, 'password');
    writeFileSync(passwordFile, password);
    const kafkaAdmin = testKafka().admin();
    await kafkaAdmin.connect();
    for (const t of Object.values(topics)) await createTopic(kafkaAdmin, t, PARTITIONS);
    await kafkaAdmin.disconnect();
  });
  /** The environment a process needs to reach this server as `user` (one of the documented ACL users). */
  const asUser = (user: string) => ({
    REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    REDIS_USERNAME: user,
    REDIS_PASSWORD_FILE: passwordFile,
    CRM_KEY_PREFIX: prefix,
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
    const kafkaAdmin = testKafka().admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: Object.values(topics) });
    await kafkaAdmin.disconnect();
  });

  it('let the segmenter apply events and the profile API serve them, without a NOPERM', async () => {
    const segmenter = run(SEGMENTER, {
      ...asUser('crm-segmenter'),
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      CRM_TOPIC_SUFFIX: suffix,
      CRM_GROUP_ID: prefix,
      CRM_PARTITIONS: String(PARTITIONS),
      CRM_HTTP_PORT: '0',
      CRM_SCORING: 'quantile',
      CRM_RESCORE_INTERVAL_MS: '100',
      CRM_TIMER_INTERVAL_MS: '20',
    });
    let api: ReturnType<typeof run> | undefined;
    try {
      const now = Date.now();
      const events = generateEvents({ seed: 5, customers: 40, events: 400, start: now - 30 * DAY_MS, end: now - 60_000, prefix: 'acl' });
      const producer = testKafka().producer();
      await producer.connect();
      await producer.sendBatch({
        topicMessages: Object.entries({
          [topics.orders]: events.filter((e) => e.type.startsWith('commerce.')),
          [topics.interactions]: events.filter((e) => e.type.startsWith('service.')),
          [topics.profiles]: events.filter((e) => !e.type.startsWith('commerce.') && !e.type.startsWith('service.')),
        }).map(([topic, es]) => ({ topic, messages: es.map((e) => ({ key: e.subject, value: JSON.stringify(e) })) })),
      });
      await producer.disconnect();
      const customer = events[0]?.subject as string;

      // Applied (fences cover every record), the outbox relayed and trimmed, the RFM cuts computed.
      await waitFor(
        'the segmenter to apply every event and compute the cuts',
        async () => {
          let fenced = 0;
          let outbox = 0;
          for (let p = 0; p < PARTITIONS; p++) {
            for (const v of Object.values(await admin.hgetall(`${prefix}:{${p}}:fence`))) fenced += Number(v);
            outbox += await admin.xlen(`${prefix}:{${p}}:outbox`);
          }
          return fenced === events.length && outbox === 0 && (await admin.exists(`${prefix}:rfm-cuts`)) === 1;
        },
        { timeoutMs: 60_000 },
      );

      const tokens = join(redis.dir, 'tokens.json');
      writeFileSync(tokens, JSON.stringify({ tokens: [TOKEN] }));
      api = run(PROFILE_API, {
        ...asUser('crm-profile-api'),
        CRM_PARTITIONS: String(PARTITIONS),
        PROFILE_API_PORT: '0',
        PROFILE_API_HOST: '127.0.0.1',
        PROFILE_API_TOKENS_FILE: tokens,
      });
      const address = await waitFor('the profile API listening', () => (api === undefined ? undefined : listeningAddress(api, 'profile API listening')));
      const get = async (path: string) => (await fetch(`${address}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status;
      expect(await get(`/customers/${encodeURIComponent(customer)}`)).toBe(200);
      expect(await get('/segments')).toBe(200);
      expect(await get('/segments/stage/new/members')).toBe(200);
      expect(await get('/customers')).toBe(200);
      expect(await get('/customers?where=stage:new')).toBe(200);

      // The console's reads, as crm-console.
      const cli = (args: string[]) =>
        run(
          CLI,
          {
            ...asUser('crm-console'),
            KAFKA_BROKERS: testEndpoints().kafkaBrokers,
            CRM_TOPIC_SUFFIX: suffix,
          },
          args,
        );
      for (const args of [
        ['customer', 'show', customer, '--json'],
        ['segments', '--json'],
        ['customers', 'export', '--where', 'stage=new'],
        ['customers', 'export'],
      ]) {
        const c = cli(args);
        const code = await c.exited;
        expect(code, `crm ${args.join(' ')}: ${c.output()}`).toBe(0);
        expect(c.output()).not.toMatch(REFUSED_COMMAND);
      }
    } finally {
      segmenter.child.kill('SIGTERM');
      api?.child.kill('SIGTERM');
      await Promise.all([segmenter.exited, api?.exited]);
    }
    expect(segmenter.output()).not.toMatch(REFUSED_COMMAND);
    expect(api.output()).not.toMatch(REFUSED_COMMAND);
  });

  it.each(['crm-profile-api', 'crm-console'])("keep the reader %s from writing and from other prefixes' keys", async (username) => {
    const reader = new Redis({ port: redis.port, username, password, maxRetriesPerRequest: 0 });
    try {
      await expect(reader.hset(`${prefix}:{0}:state`, 'x', 'y')).rejects.toThrow(/NOPERM/);
      await expect(reader.del(`${prefix}:rfm-cuts`)).rejects.toThrow(/NOPERM/);
      await expect(reader.get('other:rfm-cuts')).rejects.toThrow(/NOPERM/);
      expect(await reader.hgetall(`${prefix}:{0}:counts`)).toEqual(expect.any(Object));
    } finally {
      reader.disconnect();
    }
  });
});
