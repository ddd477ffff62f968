/**
 * Backfill: history already in the topics is rebuilt into state without emitting a change for
 * any of it; then the service goes live and emits changes for what happens next.
 */
import type { InputEvent } from '@crm/contracts';
import { DAY_MS, generateEvents, waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, expectStatesEqualRecomputation, fixture, readChanges, topicOf } from './testing/harness.ts';

describe('backfill mode', () => {
  const f = fixture({ CRM_MODE: 'backfill', CRM_PARTITIONS: '2' });
  afterAll(() => f.close());

  it('rebuilds history quietly, then goes live', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const history = generateEvents({ seed: 3, customers: 40, events: 1_500, start: now - 700 * DAY_MS, end: now - 2 * DAY_MS, prefix: 'h' });
    await createTopics(f.kafka, f.config, 2);
    const producer = f.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Topic after topic, as a history load does: the service sees each topic's past at once.
    for (const topic of [f.config.topics.profiles, f.config.topics.orders, f.config.topics.interactions]) {
      const messages = history.filter((e) => topicOf(f.config, e) === topic).map((e) => ({ key: e.subject, value: JSON.stringify(e) }));
      await producer.send({ topic, acks: -1, messages });
    }

    const segmenter = await f.start();
    expect(segmenter.mode()).toBe('backfill');
    await waitFor('the switch to live', () => segmenter.mode() === 'live', { timeoutMs: 60_000 });

    // Every customer of the history has exactly the state a from-scratch fold gives.
    const compared = await expectStatesEqualRecomputation(f.redis, f.config, 2, history, Date.now() + DAY_MS, (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(new Set(history.map((e) => e.subject)).size);

    // Live: a new event is emitted (and whatever time alone changed since the history, by timers).
    const newcomer: InputEvent = {
      specversion: '1.0',
      id: 'live-1',
      source: 'urn:test',
      type: 'customer.registered',
      time: new Date(now).toISOString(),
      subject: 'newcomer',
      data: { signupChannel: 'web', marketingConsent: null },
    };
    await producer.send({ topic: f.config.topics.profiles, messages: [{ key: newcomer.subject, value: JSON.stringify(newcomer) }] });
    await producer.disconnect();
    const changes = await waitFor('the live change', async () => {
      const all = await readChanges(f);
      return all.some((c) => c.subject === 'newcomer') ? all : undefined;
    });
    // No history event caused an emitted change.
    const fromEvents = changes.filter((c) => c.data.cause.kind === 'event');
    expect(fromEvents.map((c) => `${c.subject}:${c.data.dimension}:${c.data.to}`)).toEqual(['newcomer:stage:prospect']);
  });
});
