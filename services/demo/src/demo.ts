/**
 * The live demo: generated customer traffic, time compressed, through an in-process segmenter
 * (stream clock, its own topics and keys), and the segment changes it emits shown live.
 */
import { type SegmentChangeEvent, TOPICS, decodeInput } from '@crm/contracts';
import { streamEvents } from '@crm/sample-data';
import { Segmenter } from '@crm/segmenter';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { CUSTOMER_ID_PATHS, kafkaLogCreator, kafkaOptions, loggerOptions, redisOptions, registryOptions } from '@crm/service-kit';
import { type Consumer, Kafka, type Producer, logLevel } from 'kafkajs';
import { type Logger, destination, pino } from 'pino';
import type { DemoConfig } from './config.ts';
import { Feeder } from './feeder.ts';
import { Pacer } from './pacer.ts';
import { Screen, type ScreenOutput } from './screen.ts';
import { simTime } from './view.ts';

const DAY_MS = 86_400_000;

export class Demo {
  readonly screen: Screen;
  private readonly config: DemoConfig;
  private readonly log: Logger;
  private readonly kafka: Kafka;
  private readonly segmenter: Segmenter;
  private readonly producer: Producer;
  private readonly viewer: Consumer;
  private readonly viewGroup: string;
  private readonly pacer: Pacer;
  private readonly feeder: Feeder;
  private readonly registry: SchemaRegistry | undefined;
  private segmenterStarted = false;
  private stopping: Promise<void> | undefined;

  constructor(config: DemoConfig, out: ScreenOutput) {
    this.config = config;
    const seg = config.segmenter;
    this.log = pino(
      loggerOptions(seg.logLevel, { service: 'demo', run: config.runId }, CUSTOMER_ID_PATHS),
      destination({ dest: config.logFile, sync: true, mkdir: true }),
    );
    this.segmenter = new Segmenter(seg, this.log.child({ component: 'segmenter' }));
    this.kafka = new Kafka(kafkaOptions(seg.kafka, { clientId: 'crm-demo', logLevel: logLevel.INFO, logCreator: kafkaLogCreator(this.log) }));
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.viewGroup = `${seg.groupId}-view`;
    this.viewer = this.kafka.consumer({ groupId: this.viewGroup, maxWaitTimeInMs: 100 });
    this.pacer = new Pacer(config.simStart, config.daysPerSecond, config.rate);
    const registry = seg.registry ? new SchemaRegistry(registryOptions(seg.registry)) : undefined;
    this.feeder = new Feeder({
      events: streamEvents({ seed: config.seed, customers: config.customers, start: config.simStart, days: config.days, idPrefix: 'c' })[Symbol.iterator](),
      pacer: this.pacer,
      producer: this.producer,
      registry,
      topics: { [TOPICS.orders]: seg.topics.orders, [TOPICS.interactions]: seg.topics.interactions, [TOPICS.profiles]: seg.topics.profiles },
      onDone: () =>
        this.screen.notice(
          `traffic finished: ${this.feeder.produced} events up to ${simTime(this.pacer.now())}. The segmenter's clock is the stream's, so time stops with the traffic. Ctrl-C to exit.`,
        ),
    });
    this.screen = new Screen(out, {
      ansi: config.ansi,
      maxLinesPerSecond: config.maxLinesPerSecond,
      tallyIntervalMs: config.tallyIntervalMs,
      status: () => ({
        simNow: this.pacer.now(),
        daysPerSecond: config.daysPerSecond,
        eventsProduced: this.feeder.produced,
        eventRate: this.feeder.rate,
        trafficDone: this.feeder.done,
      }),
    });
    this.registry = registry;
  }

  /** Lines describing the run, for the top of the screen. */
  banner(): string[] {
    const c = this.config;
    const end = c.simStart + c.days * DAY_MS;
    return [
      `crm demo ${c.runId}: ${c.customers.toLocaleString('en-US')} customers (seed ${c.seed}), simulated ${simTime(c.simStart).slice(0, 10)} → ${simTime(end).slice(0, 10)} ` +
        `at ${c.daysPerSecond} days per second, at most ${c.rate} events/s`,
      `segmenter: stream clock, topics *${c.segmenter.topics.orders.slice('commerce.orders.v1'.length)}, Redis prefix ${c.segmenter.keyPrefix}, ` +
        `logs ${c.logFile}, metrics http://127.0.0.1:${this.segmenter.httpPort()}/metrics`,
      'columns: simulated time · customer · dimension · from → to · reason · cause (event topic[partition]@offset, or timer)   — Ctrl-C stops',
    ];
  }

  /** Starts the segmenter (it creates the topics), the change viewer, then the traffic. */
  async start(): Promise<void> {
    this.log.info({ config: { ...this.config, segmenter: undefined } }, 'demo starting');
    await this.segmenter.start();
    this.segmenterStarted = true;
    await this.producer.connect();
    await this.viewer.connect();
    await this.viewer.subscribe({ topic: this.config.segmenter.topics.segmentChanges, fromBeginning: true });
    await this.viewer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const decoded = await decodeInput(TOPICS.segmentChanges, m.value, this.registry);
          if (decoded.ok) this.screen.change(decoded.event as SegmentChangeEvent);
          else this.log.warn({ err: decoded.error, offset: m.offset, partition: batch.partition }, 'undecodable segment change');
        }
      },
    });
    for (const line of this.banner()) this.screen.notice(line);
    this.screen.start();
    this.feeder.start();
  }

  /** Resolves when the traffic loop ends on its own (a failure rejects). */
  feeding(): Promise<void> {
    return this.feeder.ended();
  }

  /**
   * Stops the traffic, stops the segmenter gracefully (batch finished, outbox relayed,
   * offsets committed, group left), disconnects, and deletes the run's topics, groups and
   * keys unless DEMO_KEEP. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        failures.push(err);
        this.log.error({ err }, `${what} failed`);
      }
    };
    await step('stopping the traffic', () => this.feeder.stop());
    await step('disconnecting the producer', () => this.producer.disconnect());
    if (this.segmenterStarted) await step('stopping the segmenter', () => this.segmenter.stop());
    await step('stopping the viewer', () => this.viewer.disconnect());
    this.screen.stop();
    if (!this.config.keep) await step('cleaning up', () => this.cleanUp());
    else
      this.screen.notice(
        `kept: topics *${this.config.segmenter.topics.orders.slice('commerce.orders.v1'.length)}, Redis keys ${this.config.segmenter.keyPrefix}:*`,
      );
    this.log.info('demo stopped');
    this.log.flush();
    if (failures.length > 0) throw new AggregateError(failures, 'the demo did not stop cleanly');
  }

  /** Deletes what this run created: its topics, consumer groups and Redis keys. */
  private async cleanUp(): Promise<void> {
    const seg = this.config.segmenter;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = Object.values(seg.topics).filter((t) => existing.has(t));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.deleteGroups([seg.groupId, this.viewGroup]).catch((err: unknown) => this.log.warn({ err }, 'consumer groups not deleted'));
    } finally {
      await admin.disconnect();
    }
    const redis = new Redis(redisOptions(seg.redis, { maxRetriesPerRequest: 3 }));
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${seg.keyPrefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      await redis.quit();
    }
  }
}

/** kafkajs' logs into the demo's log file (never the terminal). */
