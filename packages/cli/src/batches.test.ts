import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { BatchSender, RecordBuffer } from './batches.ts';

const text = (b: Message['key'] | Message['value']) => (Buffer.isBuffer(b) ? b.toString() : b);

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve = () => {};
  let reject: (err: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('RecordBuffer', () => {
  it('gives each record a message with its key and value bytes', () => {
    const b = new RecordBuffer(3, 32, 8);
    b.add('17850', Buffer.from('first value'));
    b.add('13047', Buffer.from('second'));
    expect(b.messages().map((m) => [text(m.key), text(m.value)])).toEqual([
      ['17850', 'first value'],
      ['13047', 'second'],
    ]);
    b.add('ü', Buffer.from('x'));
    expect(b.full).toBe(true);
    expect(text(b.messages()[2]?.value ?? null)).toBe('x');
    expect(() => b.add('k', Buffer.from('v'))).toThrow(/more than 3 records/);
  });

  it('reuses its message objects and buffer views from one batch to the next', () => {
    const b = new RecordBuffer(2, 32, 8);
    b.add('17850', Buffer.from('aaaa'));
    b.add('13047', Buffer.from('bbbbbb'));
    const [m0, m1] = b.messages();
    const views = [m0?.key, m0?.value, m1?.key, m1?.value];
    b.clear();
    expect(b.count).toBe(0);
    expect(m0?.value).toBeNull();
    b.add('12583', Buffer.from('cccc'));
    b.add('14688', Buffer.from('dddddd'));
    const again = b.messages();
    expect(again[0]).toBe(m0);
    expect([again[0]?.key, again[0]?.value, again[1]?.key, again[1]?.value]).toEqual(views);
    expect(again.map((m) => [text(m.key), text(m.value)])).toEqual([
      ['12583', 'cccc'],
      ['14688', 'dddddd'],
    ]);
  });

  it('keeps the key and buffer of a record too big for its slot', () => {
    const b = new RecordBuffer(3, 16, 6);
    const big = Buffer.from('a value longer than the slot');
    b.add('17850', big);
    b.add('a key longer than six bytes', Buffer.from('v'));
    b.add('13047', Buffer.from('0123456789'));
    const [first, second, third] = b.messages();
    expect(first).toEqual({ key: '17850', value: big });
    expect(first?.value).toBe(big);
    expect(second).toEqual({ key: 'a key longer than six bytes', value: Buffer.from('v') });
    expect([text(third?.key ?? null), text(third?.value ?? null)]).toEqual(['13047', '0123456789']);
  });
});

describe('BatchSender', () => {
  it('sends full batches one at a time, waits while one is in flight, and sends the rest on close', async () => {
    const sent: string[][] = [];
    const first = deferred();
    const sender = new BatchSender(2, (messages) => {
      // Copied now: the messages are reused once the send is done.
      sent.push(messages.map((m) => `${text(m.key)}=${text(m.value)}`));
      // The first send stays in flight until the test lets it complete; the others complete at once.
      return sent.length === 1 ? first.promise : Promise.resolve();
    });
    await sender.add('a', Buffer.from('1'));
    await sender.add('b', Buffer.from('2'));
    expect(sent).toEqual([['a=1', 'b=2']]);
    await sender.add('c', Buffer.from('3'));
    let fourthAdded = false;
    const fourth = sender.add('d', Buffer.from('4')).then(() => {
      fourthAdded = true;
    });
    // The second batch is full, but the first is still in flight.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(fourthAdded).toBe(false);
    expect(sent).toHaveLength(1);
    first.resolve();
    await fourth;
    expect(sent).toEqual([
      ['a=1', 'b=2'],
      ['c=3', 'd=4'],
    ]);
    await sender.add('e', Buffer.from('5'));
    await sender.close();
    expect(sent.at(-1)).toEqual(['e=5']);
  });

  it('reports a failed send to the next add that waits for it', async () => {
    const sender = new BatchSender(1, () => Promise.reject(new Error('broker says no')));
    await sender.add('a', Buffer.from('1'));
    await expect(sender.add('b', Buffer.from('2'))).rejects.toThrow('broker says no');
  });
});
