/**
 * The crash test: while 100,000 generated events stream in, the segmenter process is killed
 * with SIGKILL ten times at random moments and restarted. Afterwards:
 * - every customer's state in Redis equals a from-scratch recomputation over the full log;
 * - the change topic holds every change: per customer and dimension, the changes (duplicates
 *   removed) form an unbroken chain from "not a member" to the membership Redis holds now;
 * - any duplicate carries the same event id and the same content.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DAY_MS, generateEvents, prng } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTopics,
  expectStatesEqualRecomputation,
  expectUnbrokenChains,
  fixture,
  readChanges,
  startChild,
  topicOf,
  waitUntilAllApplied,
} from './testing/harness.ts';

const EVENTS = 100_000;
const CUSTOMERS = 3_000;
const KILLS = 10;
const PARTITIONS = 3;

describe('crash safety', () => {
  const f = fixture({ CRM_PARTITIONS: String(PARTITIONS), CRM_SESSION_TIMEOUT_MS: '6000', CRM_LOG_LEVEL: 'error' });
  const { env, config, kafka, redis } = f;
  const output: string[] = [];
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await f.close();
  });

  it(`keeps state and changes exact through ${KILLS} SIGKILLs while ${EVENTS} events stream in`, async () => {
    const now = Date.now();
    // Event times span the last 25 days: inside the domain's lateness allowance (30 days behind a
    // customer's asOf, docs/segmentation.md), where streaming must equal batch exactly even
    // though wall-clock timers move asOf to now before older events arrive.
    const events = generateEvents({ seed: 42, customers: CUSTOMERS, events: EVENTS, start: now - 25 * DAY_MS, end: now - 60_000, prefix: 'k' });
    await createTopics(kafka, config, PARTITIONS);

    // Stream the log in while the segmenter is being killed.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const CHUNK = 2_000;
    const streaming = (async () => {
      for (let i = 0; i < events.length; i += CHUNK) {
        const byTopic = new Map<string, Array<{ key: string; value: string }>>();
        for (const e of events.slice(i, i + CHUNK)) {
          const t = topicOf(config, e);
          byTopic.set(t, [...(byTopic.get(t) ?? []), { key: e.subject, value: JSON.stringify(e) }]);
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        await sleep(250); // paced so that kills land while events still arrive
      }
    })();

    const rnd = prng(7);
    for (let k = 0; k < KILLS; k++) {
      child = startChild(env, output);
      // A random moment: 0.5-3 s into this run (start-up, batches, timers, relays all get hit).
      await sleep(500 + rnd() * 2500);
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await streaming;
    await producer.disconnect();

    // A last run consumes everything, then stops gracefully (relays its outbox).
    child = startChild(env, output);
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, output.join('').slice(-2000)).toBe(0);

    // 1. State equals a from-scratch recomputation over the full log.
    const compared = await expectStatesEqualRecomputation(redis, config, PARTITIONS, events, Date.now(), (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(new Set(events.map((e) => e.subject)).size);

    // 2. Every change is in the topic, 3. duplicates carry the same id and content.
    const { chains, unique, duplicates } = await expectUnbrokenChains(redis, config, PARTITIONS, await readChanges(f));
    expect(chains).toBeGreaterThan(compared);
    console.log(
      `[crash] ${KILLS} kills, ${EVENTS} events, ${compared} customers equal to recomputation, ${unique} changes (${duplicates} duplicates re-emitted with the same id)`,
    );
  }, 600_000);
});
