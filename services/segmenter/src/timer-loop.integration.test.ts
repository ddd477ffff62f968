/**
 * A timer tick that fails does not end the process: in backfill mode each tick checks whether the
 * owned partitions reached the end offsets seen at start by reading their fences (HGETALL). A
 * Redis of the test's own refuses that command (an ACL) from the start: every tick fails, is
 * logged and counted, no rejection goes unhandled, and once the ACL allows HGETALL again the
 * partitions are audited, rebuilt, and the service goes live.
 */
import { DAY_MS, type OwnRedis, generateEvents, logSink, startOwnRedis, testKafka, waitFor } from '@crm/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Segmenter } from './service.ts';
import { createTopics, isolatedEnv, produceEvents } from './testing/harness.ts';

const PARTITIONS = 2;

describe('the timer loop', () => {
  let own: OwnRedis | undefined;
  let client: Redis | undefined;
  let segmenter: Segmenter | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await segmenter?.stop();
    await client?.quit();
    await own?.stop();
  });

  it('logs and counts a failed tick (the go-live fence read refused), keeps ticking, and goes live once Redis allows the read', async () => {
    own = await startOwnRedis();
    client = new Redis({ port: own.port, host: '127.0.0.1' });
    const { config } = isolatedEnv({ REDIS_URL: `redis://127.0.0.1:${own.port}`, CRM_MODE: 'backfill', CRM_PARTITIONS: String(PARTITIONS) });
    const kafka = testKafka();
    await createTopics(kafka, config, PARTITIONS);
    const now = Date.now();
    await produceEvents(kafka, config, generateEvents({ seed: 7, customers: 20, events: 200, start: now - 30 * DAY_MS, end: now - DAY_MS, prefix: 't' }));
    // readFence's command: the go-live check (and the fence audit) cannot read a fence.
    await client.call('ACL', 'SETUSER', 'default', '-hgetall');

    const sink = logSink('info');
    segmenter = new Segmenter(config, sink.logger);
    await segmenter.start();
    const failedTicks = () => sink.lines.filter((l) => l['msg'] === 'timer tick failed; retried on the next tick');
    // Two failed ticks: the loop went on after the first.
    await waitFor('two failed timer ticks logged (or a rejection unhandled)', () => failedTicks().length >= 2 || unhandled.length > 0, { timeoutMs: 60_000 });
    expect(unhandled).toEqual([]);
    const line = failedTicks()[0];
    expect(line).toMatchObject({ level: 50, err: { message: expect.stringMatching(/NOPERM/) } });
    const counted = (await segmenter.metrics.timerFailures.get()).values[0]?.value ?? 0;
    expect(counted).toBeGreaterThanOrEqual(2);
    expect(segmenter.mode()).toBe('backfill');

    await client.call('ACL', 'SETUSER', 'default', '+hgetall');
    const running = segmenter;
    await waitFor('the switch to live', () => running.mode() === 'live', { timeoutMs: 60_000 });
    expect(unhandled).toEqual([]);
  }, 120_000);
});
