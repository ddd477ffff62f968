/**
 * Starts each owned partition from its Redis fence, and stops consuming one whose fence Redis
 * lost until it has been audited again (docs/architecture.md, "Durability"). A partition stands
 * `auditing` (its topics paused), `consuming`, or `held` for an operator.
 *
 * When it audits: on every assignment (for every assigned partition), on every Redis
 * reconnection (every consumed partition: a restarted Redis may hold less, also for a partition
 * that receives nothing), and when a worker reads a fence behind one it saw (FenceLostError).
 * What it decides is src/fence-audit.ts's; here the facts are gathered (the fence, read alone on
 * the partition under its worker's lock; the group's committed offsets; the log starts) and the
 * verdict carried out: a JSON error line and a metric per lost topic-partition, then a seek of
 * every topic and a resume, or a hold.
 */
import { partitionKeys, readFence } from '@crm/store';
import type { Redis } from 'ioredis';
import type { Admin, Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { SegmenterConfig } from './config.ts';
import { type FenceLostError, type TopicFacts, holdAdvice, judgePartition } from './fence-audit.ts';
import type { Intake } from './intake.ts';
import type { Metrics } from './metrics.ts';
import type { PartitionWorker } from './partition-worker.ts';

/** Pause between audit attempts (times the attempt, at most ten times): Redis or the broker may be down. */
const AUDIT_RETRY_MS = 500;

export interface FenceGuardDeps {
  config: SegmenterConfig;
  log: Logger;
  metrics: Metrics;
  redis: Redis;
  /** Connected while the service runs. */
  admin: Admin;
  consumer: Consumer;
  intake: Intake;
  inputTopics: readonly string[];
  worker: (partition: number) => PartitionWorker;
  running: () => boolean;
}

type Standing = 'auditing' | 'consuming' | 'held';

export class FenceGuard {
  private readonly deps: FenceGuardDeps;
  private readonly standing = new Map<number, Standing>();
  /** Partition -> when its current audit began (ms). */
  private readonly auditingSince = new Map<number, number>();
  /** Audits in flight (awaited by stop). */
  private readonly audits = new Set<Promise<void>>();
  /** Counts assignments: an audit acts only while the assignment it audits is current. */
  private generation = 0;

  constructor(deps: FenceGuardDeps) {
    this.deps = deps;
  }

  /** Whether partition p is consumed now (audited, not held). */
  consuming(p: number): boolean {
    return this.standing.get(p) === 'consuming';
  }

  /** Whether partition p is held for an operator. */
  held(p: number): boolean {
    return this.standing.get(p) === 'held';
  }

  /** How long partition p has been waiting for its audit (ms; 0 when it is not). */
  auditingFor(p: number, now = Date.now()): number {
    return this.standing.get(p) === 'auditing' ? now - (this.auditingSince.get(p) ?? now) : 0;
  }

  /** Resolves once every audit in flight has finished. */
  settled(): Promise<unknown> {
    return Promise.all(this.audits);
  }

  /**
   * A new assignment (call it from kafkajs's GROUP_JOIN handler, before the first fetch): every
   * assigned partition is paused and audited.
   */
  assigned(owned: readonly number[]): void {
    this.generation++;
    this.standing.clear();
    this.auditingSince.clear();
    this.deps.metrics.partitionsHeld.set(0);
    this.pauseAndAudit(owned);
  }

  /** Redis reconnected: every consumed partition is audited again. */
  reaudit(owned: readonly number[]): void {
    if (this.deps.running()) this.pauseAndAudit(owned.filter((p) => this.consuming(p)));
  }

  /** A worker found Redis' fence behind one it saw: the partition is paused and audited again. */
  lost(p: number, err: FenceLostError): void {
    if (!this.consuming(p)) return;
    this.deps.log.error({ partition: p, topic: err.topic, fence: err.fence, known: err.known }, 'Redis lost writes while consuming: auditing the partition');
    this.pauseAndAudit([p]);
  }

  private pauseAndAudit(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const now = Date.now();
    for (const p of partitions) {
      this.standing.set(p, 'auditing');
      this.auditingSince.set(p, now);
    }
    this.deps.consumer.pause(this.deps.inputTopics.map((topic) => ({ topic, partitions: [...partitions] })));
    const audit = this.audit(partitions, this.generation)
      .catch((err: unknown) => this.deps.log.error({ err }, 'fence audit failed'))
      .finally(() => this.audits.delete(audit));
    this.audits.add(audit);
  }

  /** Audits `partitions` until it succeeds, the assignment changes or the service stops. */
  private async audit(partitions: readonly number[], generation: number): Promise<void> {
    for (let attempt = 1; this.deps.running() && generation === this.generation; attempt++) {
      try {
        await this.auditOnce(partitions, generation);
        return;
      } catch (err) {
        this.deps.log.error({ err, partitions, attempt }, 'fence audit failed; partitions stay paused, retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(AUDIT_RETRY_MS * attempt, 10 * AUDIT_RETRY_MS)));
      }
    }
  }

  private async auditOnce(partitions: readonly number[], generation: number): Promise<void> {
    const { config, admin, inputTopics } = this.deps;
    const [committed, starts] = await Promise.all([
      admin.fetchOffsets({ groupId: config.groupId, topics: [...inputTopics] }),
      Promise.all(inputTopics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const)),
    ]);
    const committedOf = (topic: string, p: number): string | null => {
      const o = committed.find((c) => c.topic === topic)?.partitions.find((x) => x.partition === p)?.offset;
      return o === undefined || BigInt(o) < 0n ? null : o;
    };
    const logStartOf = (topic: string, p: number): string => starts.find(([t]) => t === topic)?.[1].find((o) => o.partition === p)?.low ?? '0';
    for (const p of partitions) {
      const worker = this.deps.worker(p);
      // Alone on the partition: no unit or timer moves the fence between the read and the seek.
      await worker.exclusive(async () => {
        if (generation !== this.generation || !this.deps.running()) return;
        const fence = await readFence(this.deps.redis, partitionKeys(config.keyPrefix, p));
        const facts: TopicFacts[] = inputTopics.map((topic) => ({
          topic,
          fence: fence[topic] ?? null,
          committed: maxOffset(committedOf(topic, p), worker.knownFenceOf(topic)),
          emitted: maxOffset(committedOf(topic, p), worker.relayedFenceOf(topic)),
          logStart: logStartOf(topic, p),
        }));
        this.act(p, worker, fence, judgePartition(facts, config.onFenceLoss));
      });
    }
  }

  /** Carries out an audit's verdict for partition p: says what Redis lost, then seeks and resumes, or holds. */
  private act(p: number, worker: PartitionWorker, fence: Record<string, string>, verdict: ReturnType<typeof judgePartition>): void {
    const { log, metrics, consumer, intake, inputTopics, config } = this.deps;
    const silentUntil = new Map<string, string>();
    for (const v of verdict.topics) {
      if (v.kind === 'start') continue;
      metrics.fenceRegressions.inc({ topic: v.topic });
      const action = v.kind === 'reapply' ? `re-applying from offset ${v.from}` : 'partition held';
      log.error(
        { partition: p, topic: v.topic, fence: v.fence, committed: v.committed, policy: config.onFenceLoss, action },
        v.fence === null ? 'Redis lost writes: fence missing where offsets were committed' : 'Redis lost writes: fence behind the committed offset',
      );
      if (v.kind !== 'reapply') continue;
      if (v.silentUntil !== null) silentUntil.set(v.topic, v.silentUntil);
      intake.holdCommitsBelow(p, v.topic, BigInt(v.committed));
    }
    const held = verdict.topics.find((v) => v.kind === 'hold');
    if (held !== undefined) {
      this.standing.set(p, 'held');
      metrics.partitionsHeld.set([...this.standing.values()].filter((s) => s === 'held').length);
      log.error(
        { partition: p, reason: held.reason, fence: held.fence, committed: held.committed, logStart: held.logStart, todo: holdAdvice(held.reason) },
        'partition held: not consumed until an operator acts',
      );
      return;
    }
    // Every topic is sought, also to where it stands: batches fetched before the audit were dropped.
    for (const v of verdict.topics) if (v.kind !== 'hold') consumer.seek({ topic: v.topic, partition: p, offset: v.from });
    worker.restartFrom(fence, silentUntil);
    this.standing.set(p, 'consuming');
    consumer.resume(inputTopics.map((topic) => ({ topic, partitions: [p] })));
  }
}

/** The higher of two offsets (null: none). */
function maxOffset(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return BigInt(a) >= BigInt(b) ? a : b;
}
