/**
 * SIGTERM stops the segmenter promptly and cleanly even when Redis cannot be used (nothing
 * listens, or the password was changed under it): it leaves the group and exits 0 (not through
 * the forced exit after 30 s, which exits 1), having said why in JSON lines, and nothing reaches
 * stderr (no ioredis stack traces). A password refused at start is wrong settings, not an
 * outage: the start stops (exit 78) in JSON lines. The segmenter runs as operators run it:
 * `node src/main.ts`.
 */
import { fileURLToPath } from 'node:url';
import { type NodeProcess, logLine, spawnNode, testKafka, AofRedis } from '@crm/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, isolatedEnv } from './testing/harness.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('SIGTERM without a usable Redis', () => {
  let own: AofRedis | undefined;
  const children: NodeProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await own?.close();
  });

  /** A Redis of the test's own that wants `password`. */
  const withPassword = async (password: string): Promise<AofRedis> => {
    own = await AofRedis.start();
    const c = own.client();
    await c.config('SET', 'requirepass', password);
    c.disconnect();
    return own;
  };

  const cases: Array<[string, () => Promise<string>, RegExp, () => Promise<void>]> = [
    [
      'nothing listens',
      async () => {
        const gone = await AofRedis.start();
        await gone.close();
        return gone.url;
      },
      /ECONNREFUSED/,
      async () => undefined,
    ],
    [
      'the password was changed while it ran',
      async () => `redis://:the-right-one@127.0.0.1:${(await withPassword('the-right-one')).port}`,
      /WRONGPASS|NOAUTH/,
      async () => {
        // Rotated on the server, and the segmenter's connections dropped: it reconnects with the old one.
        const c = new Redis({ host: '127.0.0.1', port: (own as AofRedis).port, password: 'the-right-one', maxRetriesPerRequest: 3 });
        await c.config('SET', 'requirepass', 'the-new-one');
        await c.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        c.disconnect();
      },
    ],
  ];

  it('stops at start (exit 78) in JSON lines when Redis refuses the password: wrong settings, not an outage', async () => {
    const redis = await withPassword('the-right-one');
    const { env, config } = isolatedEnv({ REDIS_URL: `redis://:not-the-right-one@127.0.0.1:${redis.port}`, CRM_LOG_LEVEL: 'info', CRM_PARTITIONS: '2' });
    await createTopics(testKafka(), config, 2);
    const p = spawnNode(MAIN, env);
    children.push(p);
    expect(await p.exited).toBe(78);
    const messages = p.lines.map((l) => String(l['msg']));
    expect(messages.some((m) => /refused the credentials of user default .*check REDIS_USERNAME and REDIS_PASSWORD_FILE/.test(m))).toBe(true);
    expect(messages.some((m) => /^stopping: Redis at .* refused user default/.test(m))).toBe(true);
    expect(messages).not.toContain('partitions assigned');
    expect(JSON.stringify(p.lines)).not.toContain('right-one');
    expect(p.stderr()).toBe('');
    await redis.close();
    own = undefined;
  });

  it.each(cases)(
    'exits 0 with a JSON line for each step when %s',
    async (_, redisUrl, reason, afterStart) => {
      const { env, config } = isolatedEnv({ REDIS_URL: await redisUrl(), CRM_LOG_LEVEL: 'info', CRM_PARTITIONS: '2' });
      await createTopics(testKafka(), config, 2);
      const p = spawnNode(MAIN, env);
      children.push(p);
      await logLine(p, 'partitions assigned');
      await afterStart();
      const outage = await logLine(p, 'Redis unavailable');
      expect(String(outage['reason'])).toMatch(reason);
      // The secret never reaches a log line.
      expect(JSON.stringify(p.lines)).not.toContain('right-one');

      p.child.kill('SIGTERM');
      expect(await p.exited, JSON.stringify(p.lines.slice(-5))).toBe(0);
      const messages = p.lines.map((l) => l['msg']);
      expect(messages).toContain('stopping without Redis: batches in flight are abandoned unapplied (offsets not committed), outboxes stay for the next owner');
      expect(messages).toContain('left the consumer group');
      expect(messages).toContain('segmenter stopped');
      expect(p.stderr()).toBe('');
      // The group was left, not timed out: no member remains.
      const admin = testKafka().admin();
      await admin.connect();
      const { groups } = await admin.describeGroups([config.groupId]);
      await admin.disconnect();
      expect(groups[0]?.members).toEqual([]);
    },
    60_000,
  );
});
