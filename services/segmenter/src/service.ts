/**
 * The segmenter service: one consumer group over the three input topics (co-partitioned
 * assignment), a PartitionWorker per owned partition, the timer loop, the HTTP endpoints,
 * and a graceful stop (finish the batch, flush the outbox, commit, leave the group).
 */
import type { Server } from 'node:http';
import { type InputTopic, TOPICS } from '@crm/contracts';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type DomainConfig, type RfmCuts, type RfmSummary, mergeRfmSummaries, quantileCuts } from '@crm/domain';
import { globalKeys, keyedPartitioner, partitionKeys, readFence } from '@crm/store';
import { Redis } from 'ioredis';
import { type Consumer, Kafka, type Producer, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { coPartitionedAssigner } from './assignor.ts';
import type { SegmenterConfig } from './config.ts';
import { kafkaLogCreator, kafkaOptions, logRedisErrors, redisOptions, registryOptions, startHttp } from '@crm/service-kit';
import { type Metrics, createMetrics } from './metrics.ts';
import { PartitionWorker, type WorkerDeps } from './partition-worker.ts';
import { GroupSender } from './group-sender.ts';
import { Intake } from './intake.ts';
import { assertCoPartitioned, ensureTopics } from './topics.ts';

export class Segmenter {
  readonly metrics: Metrics;
  private readonly config: SegmenterConfig;
  private readonly log: Logger;
  private readonly redis: Redis;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly intake: Intake;
  private readonly workers = new Map<number, PartitionWorker>();
  private readonly inputTopics: string[];
  private owned: number[] = [];
  private http: Server | undefined;
  private timerLoop: NodeJS.Timeout | undefined;
  private timerRunning: Promise<void> | undefined;
  private running = false;
  private deps: WorkerDeps | undefined;
  /** Backfill: per input topic and partition, the end offset seen at start; null once live. */
  private backfillTargets: Map<string, Map<number, string>> | null = null;
  private lastCatchUpCheck = 0;
  /** The domain configuration in force: the configured one, with quantile cuts once computed. */
  private domain: DomainConfig;
  private partitionCount = 0;
  private rescoreLoop: NodeJS.Timeout | undefined;
  private rescoreRunning: Promise<void> | undefined;

  constructor(config: SegmenterConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.metrics = createMetrics();
    this.redis = new Redis(redisOptions(config.redis, { maxRetriesPerRequest: null, enableAutoPipelining: false }));
    logRedisErrors(this.redis, config.redis, log);
    this.kafka = new Kafka(kafkaOptions(config.kafka, { clientId: 'crm-segmenter', logLevel: logLevel.INFO, logCreator: kafkaLogCreator(log) }));
    this.consumer = this.kafka.consumer({
      groupId: config.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: config.sessionTimeoutMs,
      // Kafka's advice: heartbeat at most a third of the session timeout; a tenth rides out a lost beat or two.
      heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
      rebalanceTimeout: config.sessionTimeoutMs * 2,
      maxBytesPerPartition: 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyedPartitioner });
    this.inputTopics = [config.topics.orders, config.topics.interactions, config.topics.profiles];
    this.intake = new Intake({
      consumer: this.consumer,
      metrics: this.metrics,
      log,
      process: (p, parts) => this.worker(p).processBatch(parts),
      processed: () => (this.backfillTargets === null ? Promise.resolve() : this.maybeGoLive()),
      owns: (p) => this.owned.includes(p),
      topics: this.inputTopics,
    });
    this.domain = config.domain;
  }

  /** The RFM cuts in force. */
  cuts(): RfmCuts {
    return this.domain.rfm.cuts;
  }

  /** Partitions this member owns now. */
  assigned(): readonly number[] {
    return this.owned;
  }

  /** Starts consuming; on failure releases what it opened (HTTP server, connections) and rethrows. */
  async start(): Promise<void> {
    try {
      await this.startUp();
    } catch (err) {
      await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
      this.redis.disconnect();
      await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
      throw err;
    }
  }

  private async startUp(): Promise<void> {
    const { config } = this;
    this.http = await startHttp(config.http, this.metrics.registry, { ready: () => this.readiness() });
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const counts = await ensureTopics(admin, [...this.inputTopics, config.topics.segmentChanges, config.topics.deadLetter], config.partitions);
      this.partitionCount = assertCoPartitioned(counts, this.inputTopics);
      if (config.mode === 'backfill') {
        this.backfillTargets = new Map();
        for (const t of this.inputTopics) {
          const offsets = await admin.fetchTopicOffsets(t);
          this.backfillTargets.set(t, new Map(offsets.map((o) => [o.partition, o.high])));
        }
        this.log.info('backfill: rebuilding state quietly up to the end offsets seen at start');
      }
    } finally {
      await admin.disconnect();
    }
    const registry = config.registry ? new SchemaRegistry(registryOptions(config.registry)) : undefined;
    const canonicalOf = new Map<string, InputTopic>([
      [config.topics.orders, TOPICS.orders],
      [config.topics.interactions, TOPICS.interactions],
      [config.topics.profiles, TOPICS.profiles],
    ]);
    this.deps = {
      config,
      redis: this.redis,
      producer: this.producer,
      registry,
      metrics: this.metrics,
      log: this.log,
      domain: () => this.domain,
      canonical: (t) => canonicalOf.get(t) ?? (t as InputTopic),
      changesSender: new GroupSender(this.producer, config.topics.segmentChanges),
    };
    await this.producer.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.metrics.rebalances.inc();
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.owned = [...(assignment[config.topics.orders] ?? [])].sort((a, b) => a - b);
      this.intake.rebalanced(this.owned);
      this.metrics.assignedPartitions.set(this.owned.length);
      this.log.info({ partitions: this.owned }, 'partitions assigned');
      // A new owner first drains what a previous owner committed but did not relay.
      for (const p of this.owned) {
        this.worker(p)
          .relay()
          .catch((err: unknown) => this.log.error({ err, partition: p }, 'outbox drain failed'));
      }
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => this.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed'));
    await this.consumer.subscribe({ topics: this.inputTopics, fromBeginning: true });
    this.running = true;
    // Offsets are committed by the intake, once Redis holds what they cover (src/intake.ts).
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      partitionsConsumedConcurrently: config.concurrency,
      eachBatch: (payload) => this.intake.accept(payload),
    });
    this.intake.start();
    this.metrics.backfilling.set(this.backfillTargets === null ? 0 : 1);
    this.scheduleTimers();
    if (config.scoring === 'quantile') await this.adoptStoredCuts();
    if (config.scoring === 'quantile') this.scheduleRescore();
    this.log.info({ topics: this.inputTopics, group: config.groupId, clock: config.clock }, 'segmenter started');
  }

  private worker(p: number): PartitionWorker {
    let w = this.workers.get(p);
    if (w === undefined) {
      w = new PartitionWorker(p, partitionKeys(this.config.keyPrefix, p), this.deps as WorkerDeps);
      w.setQuiet(this.backfillTargets !== null);
      this.workers.set(p, w);
    }
    return w;
  }

  /** 'backfill' until every owned partition reached the end offsets seen at start, then 'live'. */
  mode(): 'backfill' | 'live' {
    return this.backfillTargets === null ? 'live' : 'backfill';
  }

  /** Switches from backfill to live once every owned partition's fence reached its target. */
  private async maybeGoLive(): Promise<void> {
    const targets = this.backfillTargets;
    // Checked at most twice a second: it reads one small hash per owned partition.
    if (targets === null || this.owned.length === 0 || Date.now() - this.lastCatchUpCheck < 500) return;
    this.lastCatchUpCheck = Date.now();
    for (const p of this.owned) {
      const fence = await readFence(this.redis, partitionKeys(this.config.keyPrefix, p));
      for (const [topic, ends] of targets) {
        const end = ends.get(p) ?? '0';
        if (BigInt(fence[topic] ?? '0') < BigInt(end)) return;
      }
    }
    this.backfillTargets = null;
    for (const w of this.workers.values()) w.setQuiet(false);
    this.metrics.backfilling.set(0);
    this.log.info({ partitions: this.owned }, 'backfill complete: live');
  }

  private scheduleTimers(): void {
    this.timerLoop = setTimeout(() => {
      this.timerRunning = this.fireTimers().finally(() => {
        this.timerRunning = undefined;
        if (this.running) this.scheduleTimers();
      });
    }, this.config.timerIntervalMs);
  }

  /** Fires due timers of every owned partition until none is due. */
  private async fireTimers(): Promise<void> {
    // No timers while backfilling: their changes would not be emitted anyway, and moving time
    // between two late facts of one order or case would cost exactness (docs/segmentation.md).
    // At go-live the wall clock catches up in one evaluation per customer.
    if (this.backfillTargets !== null) {
      await this.maybeGoLive();
      return;
    }
    // Partitions in parallel: each worker serializes its own partition (its lock), and a burst
    // of due customers then overlaps one partition's Redis and Kafka round trips with another's
    // evaluation instead of draining the partitions one after another.
    await Promise.all(
      this.owned.map(async (p) => {
        try {
          while (this.running && (await this.worker(p).fireTimers()) >= this.config.timerBatch) {
            // a full batch fired: more may be due
          }
        } catch (err) {
          this.log.error({ err, partition: p }, 'timer evaluation failed; retried on the next tick');
        }
      }),
    );
  }

  private scheduleRescore(): void {
    this.rescoreLoop = setTimeout(() => {
      this.rescoreRunning = this.rescoreCycle()
        .catch((err: unknown) => this.log.error({ err }, 'rescoring failed; retried on the next cycle'))
        .finally(() => {
          this.rescoreRunning = undefined;
          if (this.running) this.scheduleRescore();
        });
    }, this.config.rescoreIntervalMs);
  }

  /** Cuts computed earlier (by this or another instance) apply from the start. */
  private async adoptStoredCuts(): Promise<void> {
    const raw = await this.redis.get(globalKeys(this.config.keyPrefix).rfmCuts);
    if (raw !== null) this.domain = withCuts(this.domain, (JSON.parse(raw) as { cuts: RfmCuts }).cuts);
  }

  /**
   * Quantile scoring: each owner summarizes its partitions (a mergeable sketch per R, F and M),
   * the summaries of all partitions are merged into quintile cuts, and when the cuts move every
   * owned customer is re-scored through the usual commit path (changes with cause 'rescore').
   */
  private async rescoreCycle(): Promise<void> {
    const prefix = this.config.keyPrefix;
    for (const p of this.owned) {
      const summary = await this.worker(p).summarize();
      await this.redis.set(partitionKeys(prefix, p).rfmSummary, JSON.stringify(summary));
    }
    const all = Array.from({ length: this.partitionCount }, (_, p) => partitionKeys(prefix, p).rfmSummary);
    const summaries = (await this.redis.mget(...all)).filter((x): x is string => x !== null).map((x) => JSON.parse(x) as RfmSummary);
    if (summaries.length === 0) return;
    const cuts = quantileCuts(summaries.reduce(mergeRfmSummaries));
    if (cuts === null || JSON.stringify(cuts) === JSON.stringify(this.domain.rfm.cuts)) return;
    await this.redis.set(globalKeys(prefix).rfmCuts, JSON.stringify({ cuts, computedAt: new Date().toISOString() }));
    this.domain = withCuts(this.domain, cuts);
    this.log.info({ cuts }, 'RFM quantile cuts moved: re-scoring');
    let changes = 0;
    for (const p of this.owned) {
      for await (const ids of this.worker(p).customerIds(this.config.timerBatch)) {
        if (!this.running) return;
        changes += await this.worker(p).rescoreCustomers(ids);
      }
    }
    this.metrics.rescores.inc();
    this.log.info({ changes }, 'rescore sweep done');
  }

  private readiness(): { ready: boolean; detail: Record<string, unknown> } {
    const redisUp = this.redis.status === 'ready';
    const ready = this.running && redisUp && this.owned.length > 0;
    return { ready, detail: { running: this.running, redis: this.redis.status, partitions: this.owned } };
  }

  /** Stops timers, finishes the queued batches and commits their offsets, relays every owned outbox, commits, leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timerLoop) clearTimeout(this.timerLoop);
    if (this.rescoreLoop) clearTimeout(this.rescoreLoop);
    await Promise.all([this.timerRunning, this.rescoreRunning]);
    // Batches already queued are finished and their offsets committed while the consumer still runs.
    await this.intake.close();
    await this.consumer.stop();
    for (const p of this.owned) await this.worker(p).relay();
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.redis.quit();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.log.info('segmenter stopped');
  }

  httpPort(): number {
    const address = this.http?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }
}

function withCuts(domain: DomainConfig, cuts: RfmCuts): DomainConfig {
  return { ...domain, rfm: { ...domain.rfm, cuts } };
}
