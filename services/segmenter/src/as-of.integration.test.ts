/**
 * CRM_AS_OF: a backfill that ends by evaluating every customer of every partition at one
 * instant, on the deployment's stream clock. The history's partitions end months apart (as two
 * shops' exports do): on a per-partition clock, partition 0's customers would stay as of their
 * own last event. Real Kafka and Redis.
 */
import type { InputEvent } from '@crm/contracts';
import { DAY_MS, describe as describeState, evaluate, quantileCuts, summarizeRfm, withRfmCuts } from '@crm/domain';
import { partitionFor, partitionKeys, readRfmCuts, readStreamClock } from '@crm/store';
import { afterAll, describe, expect, it } from 'vitest';
import type { SegmenterConfig } from './config.ts';
import type { Segmenter } from './service.ts';
import {
  type Fixture,
  createTopics,
  expectMembershipsAsOf,
  expectStatesEqualRecomputation,
  fixture,
  foldByCustomer,
  historyEndingApart,
  latestEventTime,
  produceEvents,
  readChanges,
} from './testing/harness.ts';

const PARTITIONS = 2;
const NOW = Math.floor(Date.now() / 1000) * 1000;
/** Partition 0's history ends 300 days before partition 1's. */
const P0_END = NOW - 400 * DAY_MS;
const P1_END = NOW - 100 * DAY_MS;

const history = () => historyEndingApart([P0_END, P1_END]);

/** Runs an as-of backfill over `events` and returns its exit code. */
async function runAsOf(f: Fixture, events: readonly InputEvent[]): Promise<{ code: number; segmenter: Segmenter }> {
  await createTopics(f.kafka, f.config, PARTITIONS);
  await produceEvents(f.kafka, f.config, events);
  const segmenter = await f.start();
  const code = await Promise.race([
    segmenter.finished,
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error('as-of run did not finish in 120 s')), 120_000)),
  ]);
  return { code, segmenter };
}

/** No partition has a customer due at or before `T`. */
async function dueUpTo(f: Fixture, config: SegmenterConfig, T: number): Promise<number> {
  const counts = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => f.redis.zcount(partitionKeys(config.keyPrefix, p).timers, '-inf', T)));
  return counts.reduce((a, b) => a + b, 0);
}

describe('as of the end (CRM_AS_OF=end)', () => {
  const f = fixture({ CRM_MODE: 'backfill', CRM_AS_OF: 'end', CRM_PARTITIONS: String(PARTITIONS) });
  afterAll(() => f.close());

  it('evaluates every customer of every partition at the latest event time of all partitions', async () => {
    const events = history();
    const T = latestEventTime(events);
    expect(latestEventTime(events.filter((e) => partitionFor(e.subject, PARTITIONS) === 0))).toBeLessThan(T - 200 * DAY_MS);
    // The scenario has teeth: many of partition 0's customers hold other memberships at T than at their partition's own end.
    const folded = foldByCustomer(events, f.config.domain);
    const p0End = latestEventTime(events.filter((e) => partitionFor(e.subject, PARTITIONS) === 0));
    const moved = [...folded.values()].filter(
      (s) =>
        partitionFor(s.customerId, PARTITIONS) === 0 &&
        JSON.stringify(evaluate(s, p0End, f.config.domain).state.memberships) !== JSON.stringify(evaluate(s, T, f.config.domain).state.memberships),
    );
    expect(moved.length).toBeGreaterThan(5);

    const { code, segmenter } = await runAsOf(f, events);
    expect(code).toBe(0);
    expect(segmenter.mode()).toBe('backfill');
    expect(await readStreamClock(f.redis, f.config.keyPrefix)).toBe(T);
    expect(await dueUpTo(f, f.config, T)).toBe(0);
    const customers = new Set(events.map((e) => e.subject)).size;
    expect(await expectMembershipsAsOf(f.redis, f.config, PARTITIONS, events, T)).toBe(customers);
    // And the whole state, evaluated at T, is the from-scratch fold's.
    await expectStatesEqualRecomputation(f.redis, f.config, PARTITIONS, events, T, (actual, expected, id) => expect(actual, id).toBe(expected));
    // Nothing was emitted: a historical replay does not speak on the live topic.
    expect(await readChanges(f)).toEqual([]);
  });
});

describe('as of an instant after the data (CRM_AS_OF=<ISO>)', () => {
  const events = history();
  const T = latestEventTime(events) + 45 * DAY_MS + 1234;
  const f = fixture({ CRM_MODE: 'backfill', CRM_AS_OF: new Date(T).toISOString(), CRM_PARTITIONS: String(PARTITIONS) });
  afterAll(() => f.close());

  it('fires every timer due up to the instant and evaluates every customer at it', async () => {
    const { code } = await runAsOf(f, events);
    expect(code).toBe(0);
    expect(await dueUpTo(f, f.config, T)).toBe(0);
    expect(await expectMembershipsAsOf(f.redis, f.config, PARTITIONS, events, T)).toBe(new Set(events.map((e) => e.subject)).size);
    expect(await readChanges(f)).toEqual([]);
  });
});

describe('as of an instant before the latest event', () => {
  const events = history();
  const f = fixture({ CRM_MODE: 'backfill', CRM_AS_OF: new Date(P0_END).toISOString(), CRM_PARTITIONS: String(PARTITIONS) });
  afterAll(() => f.close());

  it('fails (exit code 1): the states already hold later events', async () => {
    const { code } = await runAsOf(f, events);
    expect(code).toBe(1);
  });
});

describe('as of the end, quantile scoring', () => {
  const f = fixture({ CRM_MODE: 'backfill', CRM_AS_OF: 'end', CRM_SCORING: 'quantile', CRM_PARTITIONS: String(PARTITIONS) });
  afterAll(() => f.close());

  it("scores with the population's quintiles as of the end, and every membership is the recomputation's under them", async () => {
    const events = history();
    const T = latestEventTime(events);
    const { code } = await runAsOf(f, events);
    expect(code).toBe(0);
    const stored = await readRfmCuts(f.redis, f.config.keyPrefix);
    expect(stored).not.toBeNull();
    const cuts = stored?.cuts ?? f.config.domain.rfm.cuts;
    expect(cuts).not.toEqual(f.config.domain.rfm.cuts);
    const domain = withRfmCuts(f.config.domain, cuts);
    // The cuts are the quintiles of every customer as of T, from scratch.
    const atT = [...foldByCustomer(events, domain).values()].map((s) => describeState(evaluate(s, T, domain).state, domain));
    expect(quantileCuts(summarizeRfm(atT))).toEqual(cuts);
    expect(await dueUpTo(f, f.config, T)).toBe(0);
    expect(await expectMembershipsAsOf(f.redis, f.config, PARTITIONS, events, T, domain)).toBe(new Set(events.map((e) => e.subject)).size);
  });
});
