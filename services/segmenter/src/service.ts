/**
 * The segmenter service: one consumer group over the three input topics (co-partitioned
 * assignment), a PartitionWorker per owned partition, the timer loop, the HTTP endpoints,
 * and a graceful stop (finish the batch, flush the outbox, commit, leave the group).
 *
 * Each assigned partition starts from Redis' fence, not from Kafka's committed offset: on every
 * assignment its topics are paused, the fence is audited against the committed offsets and the
 * log start (src/fence-audit.ts), and each topic is sought to where the fence says, or the
 * partition is held for an operator. /readyz answers whether the member can make progress, and
 * every outage is a JSON log line.
 */
import type { Server } from 'node:http';
import { type InputTopic, TOPICS } from '@crm/contracts';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type DomainConfig, type RfmCuts, type RfmSummary, mergeRfmSummaries, quantileCuts, withRfmCuts } from '@crm/domain';
import { dueCustomers, keyedPartitioner, partitionKeys, readFence, readRfmCuts, registerScripts, writeRfmCuts } from '@crm/store';
import { Redis } from 'ioredis';
import { type Admin, type Consumer, Kafka, type Producer, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { coPartitionedAssigner } from './assignor.ts';
import type { SegmenterConfig } from './config.ts';
import { DeploymentClock } from './deployment-clock.ts';
import {
  checkRedisCredentials,
  describeRedisError,
  kafkaLogCreator,
  kafkaOptions,
  redisOptions,
  redisRefusedCredentials,
  registryOptions,
  startHttp,
} from '@crm/service-kit';
import { type Metrics, createMetrics } from './metrics.ts';
import { FenceLostError } from './fence-audit.ts';
import { FenceGuard } from './fence-guard.ts';
import { PartitionWorker, type WorkerDeps } from './partition-worker.ts';
import { GroupSender } from './group-sender.ts';
import { Intake } from './intake.ts';
import { assertCoPartitioned, ensureTopics } from './topics.ts';

/** Logged (pino `msg`) once an as-of run (CRM_AS_OF) has evaluated every customer at its instant. */
export const AS_OF_MESSAGE = 'as-of evaluation complete';

export class Segmenter {
  readonly metrics: Metrics;
  /**
   * CRM_AS_OF: settles with the exit code once the run is over (0: every customer evaluated at
   * the instant, no timer due up to it in any partition). Never settles otherwise.
   */
  readonly finished: Promise<number>;
  private finish: (code: number) => void = () => undefined;
  /** Whether the as-of evaluation has begun (it runs once). */
  private asOfStarted = false;
  /** The deployment's stream clock (`<prefix>:stream-clock`), shared by every member. */
  private readonly clock: DeploymentClock;
  private stopping: Promise<void> | undefined;
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
  /** Logs each change of readiness (READINESS_CHECK_MS). */
  private readinessWatch: NodeJS.Timeout | undefined;
  /** The reasons last logged for not being ready ('' while ready). */
  private notReadyBecause = '';
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
  /** Reads committed offsets and log starts for the fence audits; connected while running. */
  private readonly admin: Admin;
  /** Starts each owned partition from its fence, or holds it (src/fence-guard.ts). */
  private readonly fences: FenceGuard;
  /** The last Redis error reason logged (one line per outage and reason), or null while Redis is fine. */
  private redisOutage: string | null = null;
  /** Whether Redis was connected before (a later 'ready' is a reconnection). */
  private redisConnectedBefore = false;
  /** When the consumer last completed a fetch (ms). */
  private lastFetchAt = Date.now();
  /** Why the consumer crashed, until it fetches again; null when it runs. */
  private consumerCrash: string | null = null;

  constructor(config: SegmenterConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.metrics = createMetrics();
    // Auto-pipelining: the commands the partitions issue in one tick (their reads, commits and
    // trims) leave in one socket write, in the order issued; a write costs 50-80 µs on loopback.
    // The relay's trim rule stays right (docs/architecture.md, "The relay").
    this.redis = new Redis(redisOptions(config.redis, { maxRetriesPerRequest: null, enableAutoPipelining: true }));
    // Before any command: a script first defined in a tick whose auto-pipeline exists is missing from it (registerScripts).
    registerScripts(this.redis);
    this.kafka = new Kafka(kafkaOptions(config.kafka, { clientId: 'crm-segmenter', logLevel: logLevel.INFO, logCreator: kafkaLogCreator(log) }));
    this.consumer = this.kafka.consumer({
      groupId: config.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: config.sessionTimeoutMs,
      // Kafka's advice: heartbeat at most a third of the session timeout; a tenth rides out a lost beat or two.
      heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
      rebalanceTimeout: config.sessionTimeoutMs * 2,
      maxBytesPerPartition: 1024 * 1024,
      // CRM_FETCH_WAIT_MS: fewer, larger units at low load; without it, a fetch returns at the
      // first record (and an empty one after 100 ms).
      ...(config.fetchWaitMs > 0 ? { minBytes: FETCH_MIN_BYTES, maxWaitTimeInMs: config.fetchWaitMs } : { minBytes: 1, maxWaitTimeInMs: 100 }),
    });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyedPartitioner });
    this.inputTopics = [config.topics.orders, config.topics.interactions, config.topics.profiles];
    this.intake = new Intake({
      consumer: this.consumer,
      metrics: this.metrics,
      log,
      process: (p, parts) => this.worker(p).applyBatch(parts),
      relayAgain: (p) => this.worker(p).relayAgain(),
      processed: () => (this.backfillTargets === null ? Promise.resolve() : this.maybeGoLive()),
      owns: (p) => this.fences.consuming(p),
      topics: this.inputTopics,
      fenceLost: (p, err) => this.fences.lost(p, err),
    });
    this.admin = this.kafka.admin();
    this.fences = new FenceGuard({
      config,
      log,
      metrics: this.metrics,
      redis: this.redis,
      admin: this.admin,
      consumer: this.consumer,
      intake: this.intake,
      inputTopics: this.inputTopics,
      worker: (p) => this.worker(p),
      running: () => this.running,
    });
    // At 0 from the start: Prometheus' increase() misses a counter series' first sample.
    for (const topic of this.inputTopics) this.metrics.fenceRegressions.inc({ topic }, 0);
    this.clock = new DeploymentClock(this.redis, config.keyPrefix);
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.watchRedis();
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
      await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect(), this.admin.disconnect()]);
      this.redis.disconnect();
      await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
      this.metrics.runtime.stop();
      throw err;
    }
  }

  private async startUp(): Promise<void> {
    const { config } = this;
    this.http = await startHttp(config.http, this.metrics.registry, { ready: () => this.readiness() });
    // Wrong Redis credentials stop the start (exit 78, one line); Redis being down does not.
    await checkRedisCredentials(this.redis, config.redis);
    // Kept connected: every assignment's fence audit reads committed offsets and log starts.
    const { admin } = this;
    await admin.connect();
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
      clock: this.clock,
    };
    await this.producer.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.metrics.rebalances.inc();
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.owned = [...(assignment[config.topics.orders] ?? [])].sort((a, b) => a - b);
      // Paused here, before kafkajs's first fetch (it fetches once this handler returns), until
      // the audit has put each topic at its fence.
      this.fences.assigned(this.owned);
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
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
      if (this.consumerCrash !== null) this.log.info('consumer fetching again');
      this.consumerCrash = null;
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.consumerCrash = e.payload.error.message;
      this.log.error({ reason: e.payload.error.message, error: e.payload.error.name, restart: e.payload.restart }, 'consumer crashed');
    });
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
    this.readinessWatch = setInterval(() => this.logReadiness(), READINESS_CHECK_MS);
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

  /**
   * Switches from backfill to live once every owned partition's fence reached its target; with
   * CRM_AS_OF, once every partition's did, evaluates every customer at the instant instead.
   */
  private async maybeGoLive(): Promise<void> {
    const targets = this.backfillTargets;
    // Checked at most twice a second: it reads one small hash per partition.
    if (targets === null || this.asOfStarted || this.owned.length === 0 || Date.now() - this.lastCatchUpCheck < 500) return;
    this.lastCatchUpCheck = Date.now();
    const { asOf } = this.config;
    // As of the end, the end is the latest event of every partition, whichever member owns it.
    const partitions = asOf === null ? this.owned : Array.from({ length: this.partitionCount }, (_, p) => p);
    for (const p of partitions) {
      const fence = await readFence(this.redis, partitionKeys(this.config.keyPrefix, p));
      for (const [topic, ends] of targets) {
        const end = ends.get(p) ?? '0';
        if (BigInt(fence[topic] ?? '0') < BigInt(end)) return;
      }
    }
    if (asOf !== null) {
      this.asOfStarted = true;
      this.evaluateAsOf(asOf).then(this.finish, (err: unknown) => {
        this.log.error({ err }, 'as-of evaluation failed');
        this.finish(1);
      });
      return;
    }
    this.backfillTargets = null;
    for (const w of this.workers.values()) w.setQuiet(false);
    this.metrics.backfilling.set(0);
    this.log.info({ partitions: this.owned }, 'backfill complete: live');
  }

  /**
   * CRM_AS_OF, once the backfill reached the end offsets seen at start: stops consuming, pins
   * the clock at the instant (the end: the shared stream clock, which then holds the latest
   * event time of every partition), fires every timer due up to it, re-scores at it in quantile
   * mode, and returns 0 once no partition has a timer due up to it. Nothing is emitted: the
   * workers stay quiet. 1 when the instant is before the latest event applied.
   */
  private async evaluateAsOf(asOf: 'end' | number): Promise<number> {
    // Records produced after the start are not part of the history being evaluated.
    this.consumer.pause(this.inputTopics.map((topic) => ({ topic })));
    const latest = await this.clock.refresh();
    const at = asOf === 'end' ? latest : asOf;
    if (at === null) {
      this.log.info({ asOf: null }, `${AS_OF_MESSAGE}: no event in the topics, nothing to evaluate`);
      return 0;
    }
    if (latest !== null && at < latest) {
      this.log.error(
        { asOf: new Date(at).toISOString(), latestEvent: new Date(latest).toISOString() },
        'CRM_AS_OF is before the latest event applied: states already hold later events; give end or a later instant',
      );
      return 1;
    }
    this.clock.pin(at);
    this.log.info(
      { asOf: new Date(at).toISOString(), source: asOf === 'end' ? 'end' : 'instant' },
      'backfill complete: evaluating every customer as of the instant',
    );
    await this.drainTimers();
    if (this.config.scoring === 'quantile') {
      // The cuts of the population as of the instant, then the timers their scores move.
      await this.rescoreCycle();
      await this.drainTimers();
    }
    const prefix = this.config.keyPrefix;
    const all = Array.from({ length: this.partitionCount }, (_, p) => p);
    for (;;) {
      // Other members' partitions too: the run is over when no customer anywhere is due.
      // (ZRANGEBYSCORE, as the timers read: the segmenter's documented ACL has no ZCOUNT.)
      const due = await Promise.all(all.map((p) => dueCustomers(this.redis, partitionKeys(prefix, p), at, 1)));
      if (due.every((ids) => ids.length === 0)) break;
      if (!this.running) return 1;
      // Owned partitions whose drain failed (logged) are drained again; others' owners drain theirs.
      await new Promise((r) => setTimeout(r, this.config.timerIntervalMs));
      await this.drainTimers();
    }
    this.log.info({ asOf: new Date(at).toISOString() }, AS_OF_MESSAGE);
    return 0;
  }

  private scheduleTimers(): void {
    this.timerLoop = setTimeout(() => {
      this.timerRunning = this.fireTimers()
        // A rejection left to itself would end the process: a failed tick (the go-live check's
        // fence reads refused, say) is logged and counted, and the next tick tries again.
        .catch((err: unknown) => this.timerFailed(err, 'timer tick failed; retried on the next tick'))
        .finally(() => {
          this.timerRunning = undefined;
          if (this.running) this.scheduleTimers();
        });
    }, this.config.timerIntervalMs);
  }

  /** Logs timer-loop work that failed (it is retried on the next tick) and counts it. */
  private timerFailed(err: unknown, msg: string, partition?: number): void {
    this.metrics.timerFailures.inc();
    this.log.error({ err, partition }, msg);
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
    if (this.config.clock === 'stream') {
      // Other members' advances: the deployment has one stream time.
      try {
        await this.clock.refresh();
      } catch (err) {
        this.timerFailed(err, 'reading the stream clock failed; retried on the next tick');
        return;
      }
    }
    await this.drainTimers();
  }

  /** Fires the due timers of every owned partition (by each worker's clock) until none is due. */
  private async drainTimers(): Promise<void> {
    // Partitions in parallel: each worker serializes its own partition (its lock), and a burst
    // of due customers then overlaps one partition's Redis and Kafka round trips with another's
    // evaluation instead of draining the partitions one after another.
    await Promise.all(
      this.owned.map(async (p) => {
        try {
          // Not while its fence is audited or the partition is held: the state may miss records.
          while (this.running && this.fences.consuming(p) && (await this.worker(p).fireTimers()) >= this.config.timerBatch) {
            // a full batch fired: more may be due
          }
        } catch (err) {
          if (err instanceof FenceLostError) this.fences.lost(p, err);
          else this.timerFailed(err, 'timer evaluation failed; retried on the next tick', p);
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
    const stored = await readRfmCuts(this.redis, this.config.keyPrefix);
    if (stored !== null) this.domain = withRfmCuts(this.domain, stored.cuts);
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
    await writeRfmCuts(this.redis, prefix, { cuts, computedAt: new Date().toISOString() });
    this.domain = withRfmCuts(this.domain, cuts);
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

  /**
   * One JSON line per Redis outage and reason (ioredis emits 'error' on every reconnection
   * attempt; without a listener it prints stack traces to stderr), and one when it is back. The
   * only logger of the connection's errors (not also @crm/service-kit's logRedisErrors): its
   * description rides along as `detail` (the address, password masked, and what to check when
   * describeRedisError can tell), and is the message when Redis refuses the credentials before
   * it ever accepted them: wrong settings, not an outage (the start then stops, exit 78).
   */
  private watchRedis(): void {
    this.redis.on('error', (err: Error & { code?: string }) => {
      const reason = err.message;
      if (reason === this.redisOutage) return;
      this.redisOutage = reason;
      const detail = describeRedisError(err, this.config.redis);
      // Not the error itself: a socket error's stack is Node's internals, and its command may hold AUTH's arguments.
      const wrongSettings = !this.redisConnectedBefore && redisRefusedCredentials(err);
      this.log.error({ reason, code: err.code, redis: this.redis.status, detail }, wrongSettings ? detail : 'Redis unavailable');
    });
    this.redis.on('ready', () => {
      if (this.redisOutage !== null) this.log.info('Redis available again');
      this.redisOutage = null;
      // A Redis that restarted (or failed over) may hold less than before, also for partitions
      // that receive nothing new: audit every consumed partition again.
      if (this.redisConnectedBefore) this.fences.reaudit(this.owned);
      // ... and may have lost the stream clock's last advances.
      if (this.redisConnectedBefore) this.clock.restore().catch((err: unknown) => this.log.warn({ err }, 'restoring the stream clock failed'));
      this.redisConnectedBefore = true;
    });
  }

  /**
   * Ready when this member can make progress: running, Redis connected, the consumer fetching
   * (or waiting on a full lane), partitions owned, none held for an operator, none with work in
   * hand and no successful commit for CRM_STALL_TIMEOUT_MS. `reasons` says what is wrong.
   */
  readiness(): { ready: boolean; detail: Record<string, unknown> } {
    const now = Date.now();
    const { stallTimeoutMs } = this.config;
    const reasons: string[] = [];
    const held = this.owned.filter((p) => this.fences.held(p));
    const unaudited = this.owned.filter((p) => this.fences.auditingFor(p, now) > stallTimeoutMs);
    const stalled = this.intake.stalled(stallTimeoutMs, now);
    if (!this.running) reasons.push('not running');
    if (this.redis.status !== 'ready') reasons.push(`Redis ${this.redis.status}${this.redisOutage ? `: ${this.redisOutage}` : ''}`);
    if (this.consumerCrash !== null) reasons.push(`consumer crashed: ${this.consumerCrash}`);
    else if (now - this.lastFetchAt > stallTimeoutMs && !this.intake.backpressured())
      reasons.push(`no fetch from the broker for ${Math.round((now - this.lastFetchAt) / 1000)} s`);
    if (this.running && this.owned.length === 0) reasons.push('no partitions assigned');
    if (unaudited.length > 0)
      reasons.push(`partitions not started for ${stallTimeoutMs / 1000} s (their fences could not be audited): ${unaudited.join(', ')}`);
    if (held.length > 0) reasons.push(`partitions held after Redis lost writes: ${held.join(', ')}`);
    if (stalled.length > 0) reasons.push(`partitions without a successful commit for ${stallTimeoutMs / 1000} s: ${stalled.join(', ')}`);
    return {
      ready: reasons.length === 0,
      detail: { reasons, redis: this.redis.status, partitions: this.owned, held, stalled },
    };
  }

  /**
   * Every outage is a JSON line with its reasons, whatever its source (a broker that stopped
   * answering logs nothing itself until its requests time out): one line when the reasons change,
   * one when the service is ready again.
   */
  private logReadiness(): void {
    const { ready, detail } = this.readiness();
    const because = ready ? '' : (detail['reasons'] as string[]).join('; ');
    if (because === this.notReadyBecause) return;
    if (ready) this.log.info('ready again');
    else this.log.warn({ reasons: detail['reasons'] }, 'not ready');
    this.notReadyBecause = because;
  }

  /**
   * Stops timers, finishes the queued batches and commits their offsets, relays every owned
   * outbox, commits, leaves the group. Each step has a deadline within STOP_DEADLINE_MS, so the
   * member always leaves the group: with Redis down, batches in flight are abandoned unapplied
   * (their offsets stay uncommitted) and outboxes stay for the next owner.
   */
  async stop(): Promise<void> {
    // Once: a signal may arrive while an as-of run is stopping by itself.
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.running = false;
    const deadline = Date.now() + STOP_DEADLINE_MS;
    const step = async (what: string, work: () => Promise<unknown>, maxMs: number): Promise<boolean> => {
      const ms = Math.max(0, Math.min(maxMs, deadline - Date.now()));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), ms);
      });
      try {
        const outcome = await Promise.race([work().then(() => 'done' as const), late]);
        if (outcome === 'done') return true;
        this.log.warn({ step: what, waitedMs: ms }, 'stop: step did not finish in time; going on');
        return false;
      } catch (err) {
        this.log.warn({ step: what, err }, 'stop: step failed; going on');
        return false;
      } finally {
        clearTimeout(timer);
      }
    };
    if (this.timerLoop) clearTimeout(this.timerLoop);
    if (this.readinessWatch) clearInterval(this.readinessWatch);
    if (this.rescoreLoop) clearTimeout(this.rescoreLoop);
    const redisUp = this.redis.status === 'ready';
    if (!redisUp) {
      this.log.warn(
        { redis: this.redis.status, reason: this.redisOutage },
        'stopping without Redis: batches in flight are abandoned unapplied (offsets not committed), outboxes stay for the next owner',
      );
      // No more reconnection attempts.
      this.redis.disconnect();
    }
    // Without Redis, commands ioredis already queued never settle: waiting for them is waiting in vain.
    const redisStepMs = redisUp ? STOP_STEP_MS : STOP_STEP_WITHOUT_REDIS_MS;
    await step('timers', () => Promise.all([this.timerRunning, this.rescoreRunning, this.fences.settled()]), redisStepMs);
    // Batches already queued are finished and their offsets committed while the consumer still runs.
    await step('finish queued batches', () => this.intake.close(), redisStepMs);
    await step('stop consuming', () => this.consumer.stop(), STOP_STEP_MS);
    if (redisUp) {
      await step(
        'relay outboxes',
        async () => {
          for (const p of this.owned) if (this.fences.consuming(p)) await this.worker(p).relay();
        },
        STOP_STEP_MS,
      );
    }
    if (await step('leave the group', () => this.consumer.disconnect(), STOP_STEP_MS)) this.log.info({ group: this.config.groupId }, 'left the consumer group');
    await step('producer', () => this.producer.disconnect(), STOP_STEP_MS);
    await step('admin', () => this.admin.disconnect(), STOP_STEP_MS);
    if (redisUp) await step('redis', () => this.redis.quit(), 1000);
    this.redis.disconnect();
    await step(
      'http',
      () =>
        new Promise<void>((resolve) => {
          if (!this.http) return resolve();
          this.http.close(() => resolve());
          this.http.closeAllConnections();
        }),
      1000,
    );
    // The loop-delay probe and the GC observer: an in-process segmenter (tests) leaves none behind.
    this.metrics.runtime.stop();
    this.log.info('segmenter stopped');
  }

  httpPort(): number {
    const address = this.http?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }
}

/** With CRM_FETCH_WAIT_MS, a fetch returns without waiting once this much is there (about 250 records). */
const FETCH_MIN_BYTES = 64 * 1024;

/** How often readiness is checked for a change worth a log line. */
const READINESS_CHECK_MS = 1_000;

/** Longest graceful stop: within @crm/service-kit's forced exit (30 s), so a stop always ends with the group left. */
const STOP_DEADLINE_MS = 20_000;
/** Longest wait for one step of the stop. */
const STOP_STEP_MS = 8_000;
/** Longest wait for a step that needs Redis when Redis was down as the stop began. */
const STOP_STEP_WITHOUT_REDIS_MS = 1_000;
