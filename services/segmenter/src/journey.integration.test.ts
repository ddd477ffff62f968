/**
 * End-to-end journey, against real Kafka, Redis and the registry: events for a few customers go
 * in, in story order; exactly the expected segment-change events come out (dimension, from,
 * to, reason), including an At Risk change fired by a timer with no new input.
 */
import type { InputEvent, SegmentChangeEvent } from '@crm/contracts';
import { type CustomerState, DAY_MS, type SegmentChange, apply } from '@crm/domain';
import { outboxLength, partitionKeys } from '@crm/store';
import { waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, readChanges } from './testing/harness.ts';

const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
const base = (customer: string, at: number) => ({ specversion: '1.0' as const, id: `journey-${customer}-${++seq}`, time: iso(at), subject: customer });
const registered = (customer: string, at: number): InputEvent => ({
  ...base(customer, at),
  source: 'urn:test:profiles',
  type: 'customer.registered',
  data: { signupChannel: 'web', marketingConsent: null },
});
const completed = (customer: string, at: number, amountMinor: number): InputEvent => ({
  ...base(customer, at),
  source: 'urn:test:orders',
  type: 'commerce.order.completed',
  data: { orderId: `o-${customer}-${seq}`, amountMinor, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
});
const contact = (customer: string, at: number, csat: number, complaint = false): InputEvent => ({
  ...base(customer, at),
  source: 'urn:test:service',
  type: 'service.interaction.recorded',
  data: {
    interactionId: `i-${customer}-${seq}`,
    caseId: null,
    channel: 'phone',
    reason: complaint ? 'complaint' : 'inquiry',
    resolution: complaint ? 'pending' : 'resolved',
    handleTimeSeconds: 300,
    csat,
    nps: null,
  },
});
const monthly = (customer: string, last: number) => Array.from({ length: 12 }, (_, i) => completed(customer, last - (11 - i) * 30 * DAY_MS, 15_000));

type Row = [dimension: string, segment: string | null, from: string | null, to: string | null, reason: string, time: string];
const row = (c: { dimension: string; segment: string | null; from: string | null; to: string | null; reason: string }, time: string): Row => [
  c.dimension,
  c.segment,
  c.from,
  c.to,
  c.reason,
  time,
];

describe('customer journey through the segmenter', () => {
  const f = fixture({ CRM_PARTITIONS: '2' });
  const { config, kafka, redis } = f;
  afterAll(() => f.close());

  it('emits exactly the expected changes, and At Risk by a timer with no new input', async () => {
    // Whole seconds: the domain keeps time to the second.
    const now = Math.floor(Date.now() / 1000) * 1000;
    // Ben bought monthly for a year; his last purchase was 90 days ago less 5 seconds, so he
    // turns At Risk five seconds into the test, with nothing new arriving.
    const benLast = now - 90 * DAY_MS + 5_000;
    const phases: Array<{ topic: string; events: InputEvent[] }> = [
      {
        topic: config.topics.profiles,
        events: [registered('ann', now - 20 * DAY_MS), registered('ben', benLast - 340 * DAY_MS), registered('cat', now - 400 * DAY_MS)],
      },
      { topic: config.topics.orders, events: [completed('ann', now - 10 * DAY_MS, 2_500), ...monthly('ben', benLast), ...monthly('cat', now - 5 * DAY_MS)] },
      // Cat is a satisfied loyalist until a complaint rated CSAT 1 makes her a hostage.
      {
        topic: config.topics.interactions,
        events: [contact('cat', now - 100 * DAY_MS, 4), contact('cat', now - 50 * DAY_MS, 4), contact('cat', now - DAY_MS, 1, true)],
      },
    ];

    await f.start();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    for (const phase of phases) {
      await producer.send({ topic: phase.topic, acks: -1, messages: phase.events.map((e) => ({ key: e.subject, value: JSON.stringify(e) })) });
      // Story order: each phase is applied before the next goes in.
      const ends = await admin.fetchTopicOffsets(phase.topic);
      await waitFor(`${phase.topic} applied`, async () => {
        for (const { partition, high } of ends) {
          if (high === '0') continue;
          if ((await redis.hget(partitionKeys(config.keyPrefix, partition).fence, phase.topic)) !== high) return false;
        }
        return true;
      });
    }
    await Promise.all([producer.disconnect(), admin.disconnect()]);

    // 1. Ann has nothing due: her changes are exactly what the pure domain decides for her story.
    let ann: CustomerState | null = null;
    const annExpected: SegmentChange[] = [];
    for (const e of phases.flatMap((x) => x.events).filter((x) => x.subject === 'ann')) {
      const r = apply(ann, e, config.domain);
      ann = r.state;
      annExpected.push(...r.changes);
    }

    // Partitions relay independently (a fence moves at the commit, its changes leave just after):
    // wait for Ben's timer-fired change and for all of Ann's, in whatever order they arrive.
    const atRisk = (e: SegmentChangeEvent) => e.subject === 'ben' && e.data.dimension === 'stage' && e.data.to === 'at_risk';
    await waitFor(
      "the timer-fired At Risk change and all of Ann's changes",
      async () => {
        const events = await readChanges(f);
        return events.some(atRisk) && events.filter((e) => e.subject === 'ann').length >= annExpected.length;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // One read once every outbox is empty (all acked by the broker): readTopic takes the end
    // offsets first, so a produce landing during a poll can cut another partition's tail.
    await waitFor('every change relayed', async () => {
      for (let p = 0; p < 2; p++) if ((await outboxLength(redis, partitionKeys(config.keyPrefix, p))) > 0) return false;
      return true;
    });
    const all = await readChanges(f);
    const annGot = all.filter((e) => e.subject === 'ann');
    expect(annGot.map((e) => row(e.data, e.time))).toEqual(annExpected.map((c) => row(c, c.time)));
    expect(annGot.map((e) => e.id)).toEqual(annExpected.map((c) => c.id));
    expect(annGot.every((e) => e.data.cause.kind === 'event' && e.data.cause.topic !== null && e.data.cause.offset !== null)).toBe(true);

    // 2. The stories, exactly, per dimension, whether an event or the clock moved them (wall-clock
    //    timers may fire between two batches of a story).
    const moves = (customer: string, dimension: string) =>
      all.filter((e) => e.subject === customer && e.data.dimension === dimension).map((e) => `${e.data.from ?? '-'}>${e.data.to ?? '-'}`);
    expect(moves('ann', 'stage')).toEqual(['->prospect', 'prospect>new']);
    expect(moves('ann', 'rfm_segment')).toEqual(['->new_customers']);
    expect(moves('ben', 'stage')).toEqual(['->prospect', 'prospect>new', 'new>repeat', 'repeat>loyal', 'loyal>at_risk']);
    expect(moves('ben', 'tier')).toEqual(['->bronze', 'bronze>silver', 'silver>gold']);
    expect(moves('cat', 'stage')).toEqual(['->prospect', 'prospect>new', 'new>repeat', 'repeat>loyal']);
    expect(moves('cat', 'quadrant').slice(-1)).toEqual(['loyalist>hostage']);
    const hostage = all.find((e) => e.subject === 'cat' && e.data.to === 'hostage');
    expect(hostage?.data.cause).toMatchObject({ kind: 'event', topic: config.topics.interactions });

    // 3. The At Risk change came from a timer, at the exact instant the threshold was crossed.
    const timerChange = all.find(atRisk);
    const at90 = iso(benLast + 90 * DAY_MS);
    expect(timerChange?.data).toMatchObject({ from: 'loyal', to: 'at_risk', reason: 'recency_days>=90', cause: { kind: 'timer', dueAt: at90 } });
    expect(timerChange?.time).toBe(at90);
    expect(all.filter((e) => e.data.cause.kind === 'timer').every((e) => e.data.cause.dueAt === e.time)).toBe(true);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);

    // 4. The segment index agrees with the last change of each dimension.
    const p = (await redis.hexists(partitionKeys(config.keyPrefix, 0).state, 'ben')) ? 0 : 1;
    expect(await redis.sismember(partitionKeys(config.keyPrefix, p).members('stage', 'at_risk'), 'ben')).toBe(1);
  });
});
