/**
 * Feeds generated events to the input topics at the pace of compressed time (Pacer), keyed
 * by customer id, encoded as the segmenter's real producers would (Avro through the registry
 * when one is configured, else JSON).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type InputEvent, type InputTopic, encodeOutput, type RegistryClient, topicOfType } from '@crm/contracts';
import type { Message, Producer } from 'kafkajs';
import type { Pacer } from './pacer.ts';

/** How often the feeder wakes up (wall ms): 20 sends a second keep the traffic smooth. */
const TICK_MS = 50;
/** Weight of the newest second in the smoothed event rate. */
const RATE_SMOOTHING = 0.3;

export interface FeederDeps {
  events: Iterator<InputEvent>;
  pacer: Pacer;
  producer: Producer;
  registry: RegistryClient | undefined;
  /** The demo's topic name for each input topic. */
  topics: Record<InputTopic, string>;
  onDone: () => void;
}

export class Feeder {
  produced = 0;
  /** Events per wall second, smoothed. */
  rate = 0;
  done = false;
  private readonly deps: FeederDeps;
  private running = false;
  private loop: Promise<void> | undefined;
  private next: InputEvent | undefined;

  constructor(deps: FeederDeps) {
    this.deps = deps;
  }

  start(): void {
    this.running = true;
    this.next = this.pull();
    this.loop = this.run();
  }

  /** Stops after the send in flight; resolves when the loop has ended. Rejects with the loop's failure. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves when the loop ends (stop or failure): lets the caller react to a failure at once. */
  ended(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private pull(): InputEvent | undefined {
    const r = this.deps.events.next();
    return r.done ? undefined : r.value;
  }

  private async run(): Promise<void> {
    const { pacer } = this.deps;
    let last = performance.now();
    let secondStart = last;
    let inSecond = 0;
    while (this.running) {
      await sleep(TICK_MS);
      const now = performance.now();
      pacer.tick(now - last);
      last = now;
      const batch: InputEvent[] = [];
      while (this.next !== undefined && pacer.release(Date.parse(this.next.time))) {
        batch.push(this.next);
        this.next = this.pull();
      }
      pacer.settle(this.next === undefined ? null : Date.parse(this.next.time));
      if (batch.length > 0) await this.send(batch);
      this.produced += batch.length;
      inSecond += batch.length;
      if (now - secondStart >= 1000) {
        this.rate = RATE_SMOOTHING * ((inSecond * 1000) / (now - secondStart)) + (1 - RATE_SMOOTHING) * this.rate;
        secondStart = now;
        inSecond = 0;
      }
      if (this.next === undefined && !this.done) {
        this.done = true;
        this.deps.onDone();
      }
    }
  }

  private async send(events: readonly InputEvent[]): Promise<void> {
    const byTopic = new Map<InputTopic, Message[]>();
    for (const e of events) {
      const topic = topicOfType(e.type) as InputTopic;
      const value = await encodeOutput(topic, e as never, this.deps.registry);
      const list = byTopic.get(topic) ?? [];
      list.push({ key: e.subject, value });
      byTopic.set(topic, list);
    }
    await this.deps.producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic: this.deps.topics[topic], messages })),
    });
  }
}
