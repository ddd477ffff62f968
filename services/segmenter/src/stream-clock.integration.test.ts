/**
 * Live on the stream clock (CRM_CLOCK=stream), the deployment has one time: the latest event
 * over all partitions. An event of partition 1 moves time for partition 0's customers (their
 * timers fire at it), and partition 0's admission measures "the future" from it. Real Kafka
 * and Redis.
 */
import { DeadLetterEvent, type InputEvent, type OrderEvent } from '@crm/contracts';
import { DAY_MS, decodeState, evaluate } from '@crm/domain';
import { partitionFor, partitionKeys, readBatchContext, readStreamClock } from '@crm/store';
import { collectMessages, waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, foldByCustomer, produceEvents, readChanges, waitUntilAllApplied } from './testing/harness.ts';

const PARTITIONS = 2;
/** The first customer id of the form `<prefix><n>` that Kafka's partitioner puts in `partition`. */
const customerIn = (partition: number, prefix: string) => {
  for (let n = 0; ; n++) if (partitionFor(`${prefix}${n}`, PARTITIONS) === partition) return `${prefix}${n}`;
};
const order = (customer: string, n: number, time: number): OrderEvent => ({
  specversion: '1.0',
  id: `clock-${customer}-${n}`,
  source: 'urn:test',
  type: 'commerce.order.completed',
  time: new Date(time).toISOString(),
  subject: customer,
  data: { orderId: `o-${customer}-${n}`, amountMinor: 2500, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
});

describe('the stream clock, live', () => {
  // Thirty days of skew: a simulation running ahead of the wall clock, as the demo's does.
  const f = fixture({ CRM_CLOCK: 'stream', CRM_PARTITIONS: String(PARTITIONS), CRM_MAX_FUTURE_SKEW_MS: String(30 * DAY_MS) });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());

  it("is shared by every partition: one partition's events move the other's timers and admission", async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const ann = customerIn(0, 'ann');
    const bob = customerIn(1, 'bob');
    await f.start();
    // Partition 0: ann bought ten days ago. Partition 1: bob buys twenty days ahead of the wall clock.
    const first: InputEvent[] = [order(ann, 1, now - 10 * DAY_MS), order(bob, 1, now + 20 * DAY_MS)];
    await produceEvents(kafka, config, first);
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);
    expect(await readStreamClock(redis, config.keyPrefix)).toBe(now + 20 * DAY_MS);

    // ann's timers fire at bob's time, not at the wall clock's: every membership as of it.
    const T = now + 20 * DAY_MS;
    const keys = partitionKeys(config.keyPrefix, 0);
    const expected = evaluate(foldByCustomer(first, config.domain).get(ann) as ReturnType<typeof decodeState>, T, config.domain).state.memberships;
    const stored = await waitFor("ann's timers at the shared clock", async () => {
      const ctx = await readBatchContext(redis, keys, [ann]);
      const s = decodeState(ctx.customers.get(ann)?.state as string, ann);
      return s.asOf > now ? s : undefined;
    });
    expect(stored.memberships).toEqual(expected);
    expect(Number(await redis.zscore(keys.timers, ann))).toBeGreaterThan(T);
    const timerChanges = (await readChanges(f)).filter((c) => c.subject === ann && c.data.cause.kind === 'timer');
    expect(timerChanges.some((c) => Date.parse(c.time) > Date.now())).toBe(true);

    // Partition 0 measures the future from the shared clock: 45 days ahead of the wall clock is
    // within 30 days of it (its own latest event, ten days ago, would refuse it); 60 days is not.
    await produceEvents(kafka, config, [order(ann, 2, now + 45 * DAY_MS), order(ann, 3, now + 60 * DAY_MS)]);
    const dead = await collectMessages(kafka, config.topics.deadLetter, (m) => m.length >= 1);
    const letter = DeadLetterEvent.parse(await registry.decode(dead[0]?.message.value as Buffer));
    expect(letter.data).toMatchObject({ reason: 'event_time_future', field: 'time', partition: 0 });
    expect(letter.data.message).toContain(new Date(now + 60 * DAY_MS).toISOString());
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS);
    expect(await readStreamClock(redis, config.keyPrefix)).toBe(now + 45 * DAY_MS);
  });
});
