/**
 * /readyz tells whether the segmenter can make progress, and every outage is a JSON log line
 * with its reason, against a Redis server of the test's own:
 * - Redis refuses every commit (an ACL that denies EVAL/EVALSHA) while records wait: 503 naming
 *   the stalled partitions, 200 again once commits pass;
 * - Redis is down (SIGKILL): 503 naming Redis, one 'Redis unavailable' line with the reason
 *   (and no other line for it), 200 again once it is back (and one line saying so);
 * - the broker (one of the test's own) is frozen: 503 naming the missing fetches, 200 again once
 *   it answers.
 */
import { DAY_MS, OwnKafka, AofRedis, generateEvents, logSink, testKafka, waitFor } from '@crm/testkit';
import type { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { Segmenter } from './service.ts';
import { createTopics, isolatedEnv, produceEvents, waitUntilAllApplied } from './testing/harness.ts';

const PARTITIONS = 2;

async function readyz(port: number): Promise<{ status: number; body: { status: string; reasons: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons: string[] } };
}

describe('readiness', () => {
  let own: AofRedis | undefined;
  let client: Redis | undefined;
  let segmenter: Segmenter | undefined;
  afterAll(async () => {
    await segmenter?.stop();
    await client?.quit();
    await own?.close();
  });

  it('is 503 with the reason while Redis refuses commits or is down, 200 again after, and logs each outage as JSON', async () => {
    own = await AofRedis.start();
    const redis = own;
    client = redis.client();
    const { config } = isolatedEnv({ REDIS_URL: redis.url, CRM_PARTITIONS: String(PARTITIONS), CRM_STALL_TIMEOUT_MS: '1000' });
    const kafka = testKafka();
    await createTopics(kafka, config, PARTITIONS);
    const now = Date.now();
    const events = generateEvents({ seed: 5, customers: 50, events: 600, start: now - 10 * DAY_MS, end: now - 60_000, prefix: 'r' });
    let sent = 0;
    const send = async (n: number) => {
      await produceEvents(kafka, config, events.slice(sent, sent + n));
      sent += n;
    };

    const sink = logSink('info');
    segmenter = new Segmenter(config, sink.logger);
    await segmenter.start();
    const port = segmenter.httpPort();
    await send(200);
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    await waitFor('ready', async () => (await readyz(port)).status === 200);

    // 1. Redis refuses every commit; records keep waiting.
    await client.call('ACL', 'SETUSER', 'default', '-eval', '-evalsha');
    await send(200);
    const refusing = await waitFor('503 while commits are refused', async () => {
      const r = await readyz(port);
      return r.status === 503 ? r : undefined;
    });
    expect(refusing.body.reasons.join('; ')).toMatch(/partitions without a successful commit for 1 s/);
    const said = await waitFor('a JSON line saying so', () =>
      sink.lines.find((l) => l['msg'] === 'not ready' && String(l['reasons']).includes('partitions without a successful commit')),
    );
    expect(said).toMatchObject({ level: 40 });
    await client.call('ACL', 'SETUSER', 'default', '+eval', '+evalsha');
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    await waitFor('ready again after the refusals', async () => (await readyz(port)).status === 200, { timeoutMs: 30_000 });
    await waitFor('a JSON line saying ready again', () => sink.lines.some((l) => l['msg'] === 'ready again'));

    // 2. Redis is down.
    await client.quit();
    client = undefined;
    await redis.kill();
    const down = await waitFor('503 while Redis is down', async () => {
      const r = await readyz(port);
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.reasons.join('; ')).toMatch(/^Redis (connecting|reconnecting|connect)/);
    const outage = await waitFor('a JSON line for the outage', () => sink.lines.find((l) => l['msg'] === 'Redis unavailable'));
    expect(outage).toMatchObject({ level: 50, reason: expect.stringMatching(/ECONNREFUSED|ECONNRESET|Connection is closed/) });
    // One line per outage and reason, not one per reconnection attempt.
    const reasons = sink.lines.filter((l) => l['msg'] === 'Redis unavailable').map((l) => l['reason']);
    expect(new Set(reasons).size).toBe(reasons.length);
    // ... and one logger of it: no other error line says Redis is unreachable.
    const redisErrors = sink.lines.filter((l) => l['level'] === 50 && /Redis|ECONNREFUSED|ECONNRESET/.test(String(l['msg'])));
    expect(redisErrors.map((l) => l['msg'])).toEqual(reasons.map(() => 'Redis unavailable'));

    expect((await redis.restart()).exitCode).toBeNull();
    client = redis.client();
    await send(events.length - sent);
    await waitUntilAllApplied(kafka, client, config, PARTITIONS);
    await waitFor('ready once Redis is back', async () => (await readyz(port)).status === 200, { timeoutMs: 30_000 });
    // One line for the recovery too.
    expect(sink.lines.filter((l) => /Redis.*again/.test(String(l['msg']))).map((l) => l['msg'])).toEqual(['Redis available again']);
    // Nothing was lost: a restarted Redis keeps what it acknowledged (the kernel holds the file).
    expect(sink.lines.some((l) => String(l['msg']).startsWith('Redis lost writes'))).toBe(false);
  }, 120_000);

  it('is 503 while the broker does not answer, and 200 again once it does', async () => {
    const broker = await OwnKafka.start();
    let own: Segmenter | undefined;
    try {
      const { config } = isolatedEnv({ KAFKA_BROKERS: broker.brokers, CRM_PARTITIONS: String(PARTITIONS), CRM_STALL_TIMEOUT_MS: '1000' });
      await createTopics(new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING }), config, PARTITIONS);
      const sink = logSink('info');
      own = new Segmenter(config, sink.logger);
      await own.start();
      const port = own.httpPort();
      await waitFor('ready', async () => (await readyz(port)).status === 200);

      broker.pause();
      // The frozen broker may first show as another reason (a partition not started yet after a
      // rejoin); what must come is the missing fetches, said as such.
      const frozen = await waitFor('503 naming the missing fetches while the broker is frozen', async () => {
        const r = await readyz(port);
        return r.status === 503 && /no fetch from the broker for \d+ s/.test(r.body.reasons.join('; ')) ? r : undefined;
      });
      expect(frozen.status).toBe(503);
      await waitFor('a JSON line saying so', () =>
        sink.lines.some((l) => l['msg'] === 'not ready' && String(l['reasons']).includes('no fetch from the broker')),
      );

      broker.resume();
      await waitFor('ready once the broker answers', async () => (await readyz(port)).status === 200, { timeoutMs: 60_000 });
    } finally {
      broker.resume();
      await own?.stop();
      await broker.close();
    }
  }, 180_000);
});
