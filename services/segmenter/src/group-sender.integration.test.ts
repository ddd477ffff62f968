/** GroupSender against a real broker: concurrent senders share requests, keep their order, and share failures. */
import { createTopic, readTopic, testKafka, uniqueName } from '@crm/testkit';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupSender } from './group-sender.ts';

const kafka = testKafka();
let producer: Producer;
let produceRequests = 0;

beforeAll(async () => {
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
  producer.on(producer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'Produce') produceRequests++;
  });
  await producer.connect();
});
afterAll(() => producer.disconnect());

describe('GroupSender', () => {
  it('sends what ten workers hand over at once in two requests, each worker in order', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('group-sender');
    await createTopic(admin, topic, 3);
    await admin.disconnect();

    const sender = new GroupSender(producer, topic);
    const before = produceRequests;
    const workers = Array.from({ length: 10 }, (_, w) => Array.from({ length: 100 }, (_, i) => ({ key: `w${w}`, value: `${w}:${i}`, partition: w % 3 })));
    // The first goes out at once; the other nine wait for it and go together.
    await Promise.all(workers.map((messages) => sender.send(messages)));
    expect(produceRequests - before).toBe(2);

    const read = await readTopic(kafka, topic);
    expect(read).toHaveLength(1000);
    for (const [w, messages] of workers.entries()) {
      const landed = read.filter((r) => r.message.key?.toString() === `w${w}`);
      expect(landed.every((r) => r.partition === w % 3)).toBe(true);
      expect(landed.map((r) => r.message.value?.toString())).toEqual(messages.map((m) => m.value));
    }
  });

  it('rejects every sender of a failed request', async () => {
    const sender = new GroupSender(producer, uniqueName('never-created'));
    const results = await Promise.allSettled([sender.send([{ value: 'a' }]), sender.send([{ value: 'b' }]), sender.send([{ value: 'c' }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});
