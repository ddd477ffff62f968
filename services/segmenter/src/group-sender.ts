/**
 * One produce request for many partition workers (group commit). The idempotent producer has
 * one request in flight, so relays of different partitions used to queue behind each other,
 * one acks=all round trip each. Here, while a request is in flight, every record sent meanwhile
 * waits in one group, and the group goes out as the next request: under load a round trip
 * carries the relays of all busy partitions; when idle, a send goes out at once.
 */
import type { Message, Producer } from 'kafkajs';

/** Most records in one request: a few workers' chunks, each partition's batch well under message.max.bytes. */
export const MAX_GROUP_RECORDS = 6000;

interface Waiting {
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupSender {
  private readonly producer: Producer;
  private readonly topic: string;
  private waiting: Waiting[] = [];
  private busy = false;

  constructor(producer: Producer, topic: string) {
    this.producer = producer;
    this.topic = topic;
  }

  /** Resolves once the broker acknowledged `messages` (acks=all), in a request shared with other senders. */
  send(messages: Message[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      if (!this.busy) this.flush();
    });
  }

  private flush(): void {
    const group: Waiting[] = [];
    let records = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as Waiting;
      if (group.length > 0 && records + next.messages.length > MAX_GROUP_RECORDS) break;
      group.push(next);
      records += next.messages.length;
      this.waiting.shift();
    }
    if (group.length === 0) return;
    this.busy = true;
    const messages = group.length === 1 ? (group[0] as Waiting).messages : group.flatMap((w) => w.messages);
    this.producer.send({ topic: this.topic, acks: -1, messages }).then(
      () => this.settle(group, null),
      (err: unknown) => this.settle(group, err ?? new Error('produce failed')),
    );
  }

  private settle(group: Waiting[], err: unknown): void {
    this.busy = false;
    for (const w of group) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
    this.flush();
  }
}
