import { partitionFor } from '@crm/store';
/**
 * The operator's view of a running segmenter: a record on the wrong topic is dead-lettered,
 * listed, re-driven (dry run first, changing nothing) to the right topic and applied; then
 * the customer, the segment counts and the group's lag are shown.
 */
import type { OrderEvent } from '@crm/contracts';
import { fixture } from '@crm/segmenter/testing';
import { readTopic, waitFor } from '@crm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from './testing/io.ts';
import { run } from './run.ts';

const order = (id: string, customer: string, amountMinor: number): OrderEvent => ({
  specversion: '1.0',
  id,
  source: 'urn:test',
  type: 'commerce.order.completed',
  time: new Date(Date.now() - 86_400_000).toISOString(),
  subject: customer,
  data: { orderId: id, amountMinor, currency: 'GBP', itemCount: 1, channel: 'web', storeId: null },
});

describe('crm against a running segmenter', () => {
  const f = fixture();
  const env = f.env;
  const endOffsets = async (topic: string) => {
    const admin = f.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    return offsets.map((o) => o.high).join(',');
  };

  beforeAll(async () => {
    expect(await run(['topics', 'create', '--partitions', '3'], captureIo(env))).toBe(0);
    await f.start();
    const producer = f.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: f.config.topics.orders, messages: [{ key: 'alice', value: JSON.stringify(order('o-alice', 'alice', 5_000)) }] });
    // An order on the interactions topic: dead-lettered as wrong_topic.
    await producer.send({
      topic: f.config.topics.interactions,
      messages: [{ key: 'bob', value: JSON.stringify(order('o-bob', 'bob', 7_000)), headers: { trace: 'abc' } }],
    });
    await producer.disconnect();
    await waitFor('the dead letter', async () => (await readTopic(f.kafka, f.config.topics.deadLetter)).length === 1);
  });
  afterAll(() => f.close());

  it('lists the dead letter with its reason and source', async () => {
    const io = captureIo(env);
    expect(await run(['dead-letters', 'list'], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`wrong_topic\\s+${f.config.topics.interactions.replaceAll('.', '\\.')}\\[\\d\\]@0\\s+bob\\s+type`));
    const json = captureIo(env);
    expect(await run(['dead-letters', 'list', '--json', '--reason', 'wrong_topic', '--limit', '5'], json)).toBe(0);
    const rows = json
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0].event.data).toMatchObject({ topic: f.config.topics.interactions, reason: 'wrong_topic', field: 'type' });
  });

  it('re-drives it to the topic given with --to (a dry run first, which changes nothing)', async () => {
    const before = await endOffsets(f.config.topics.orders);
    const dry = captureIo(env);
    expect(await run(['dead-letters', 'redrive', '--dry-run', '--reason', 'wrong_topic', '--to', f.config.topics.orders], dry)).toBe(0);
    expect(dry.out()).toMatch(/dry run: would re-drive 1 of 1 dead letter\(s\) with reason wrong_topic; nothing produced/);
    expect(await endOffsets(f.config.topics.orders)).toBe(before);

    const none = captureIo(env);
    expect(await run(['dead-letters', 'redrive', '--reason', 'invalid_field'], none)).toBe(0);
    expect(none.out()).toMatch(/nothing to re-drive/);

    const io = captureIo(env);
    expect(await run(['dead-letters', 'redrive', '--reason', 'wrong_topic', '--to', f.config.topics.orders], io)).toBe(0);
    expect(io.out()).toMatch(/re-drove 1 of 1 dead letter\(s\)/);
    const redriven = await waitFor('the re-driven record', async () =>
      (await readTopic(f.kafka, f.config.topics.orders)).find((m) => m.message.key?.toString() === 'bob'),
    );
    expect(redriven.message.headers?.['trace']?.toString()).toBe('abc');
    expect(redriven.message.headers?.['crm-redriven-from']?.toString()).toMatch(/^dl-/);
    // Applied by the segmenter this time: bob has a state.
    const show = await waitFor('bob in Redis', async () => {
      const out = captureIo(env);
      return (await run(['customer', 'show', 'bob'], out)) === 0 ? out.out() : undefined;
    });
    expect(show).toMatch(new RegExp(`partition\\s+${partitionFor('bob', 3)} of 3`));
    expect(show).toMatch(/stage\s+new/);
    expect(show).toMatch(/monetary \(minor\)\s+7000/);
  });

  it('shows a customer as JSON, and says when one is unknown', async () => {
    const io = captureIo(env);
    await waitFor('alice in Redis', async () => (await run(['customer', 'show', 'alice', '--json'], io)) === 0);
    const report = JSON.parse(io.out().trim().split('\n').at(-1) as string);
    expect(report).toMatchObject({
      customerId: 'alice',
      partition: partitionFor('alice', 3),
      memberships: { stage: 'new' },
      fields: { lifetimeOrders: 1, monetaryMinor: 5_000 },
    });
    const missing = captureIo(env);
    expect(await run(['customer', 'show', 'nobody'], missing)).toBe(1);
    expect(missing.err()).toMatch(/^crm: customer nobody not found \(partition \d of 3, key .*\)\n$/);
  });

  it('sums segment counts over the partitions', async () => {
    await waitFor('bob applied', async () => (await run(['customer', 'show', 'bob'], captureIo(env))) === 0);
    const io = captureIo(env);
    expect(await run(['segments', '--json', '--dimension', 'stage'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual([{ dimension: 'stage', value: 'new', count: 2 }]);
    const table = captureIo(env);
    expect(await run(['segments'], table)).toBe(0);
    expect(table.out()).toMatch(/stage\s+new\s+2/);
  });

  it("prints the segmenter group's lag per partition", async () => {
    // The segmenter commits its offsets once a second: wait for a commit rather than race it.
    const io = await waitFor('the group has committed offsets', async () => {
      const attempt = captureIo(env);
      expect(await run(['lag', '--group', f.config.groupId], attempt)).toBe(0);
      return !attempt.out().includes('no committed offsets') && attempt;
    });
    expect(io.out()).toContain(`group ${f.config.groupId}`);
    expect(io.out()).toContain(f.config.topics.orders);
    expect(io.out()).toMatch(/topic\s+partition\s+committed\s+end\s+lag\s+lag s/);
  });
});
