/**
 * SIGTERM stops the segmenter promptly and cleanly even when Redis cannot be used (nothing
 * listens, or the password is wrong): it leaves the group and exits 0 (not through the forced
 * exit after 30 s, which exits 1), having said why in JSON lines, and nothing reaches stderr
 * (no ioredis stack traces). The segmenter runs as operators run it: `node src/main.ts`.
 */
import { fileURLToPath } from 'node:url';
import { type NodeProcess, logLine, spawnNode, testKafka, AofRedis } from '@crm/testkit';
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

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'nothing listens',
      async () => {
        const gone = await AofRedis.start();
        await gone.close();
        return gone.url;
      },
      /ECONNREFUSED/,
    ],
    [
      'the password is wrong',
      async () => {
        own = await AofRedis.start();
        const c = own.client();
        await c.config('SET', 'requirepass', 'the-right-one');
        c.disconnect();
        return `redis://:not-the-right-one@127.0.0.1:${own.port}`;
      },
      /WRONGPASS|NOAUTH/,
    ],
  ];

  it.each(cases)(
    'exits 0 with a JSON line for each step when %s',
    async (_, redisUrl, reason) => {
      const { env, config } = isolatedEnv({ REDIS_URL: await redisUrl(), CRM_LOG_LEVEL: 'info', CRM_PARTITIONS: '2' });
      await createTopics(testKafka(), config, 2);
      const p = spawnNode(MAIN, env);
      children.push(p);
      await logLine(p, 'partitions assigned');
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
