/**
 * Decouples fetching from processing. kafkajs fetches again only once every batch of the
 * previous fetch was handed back, so a segmenter that processed inside `eachBatch` idled while
 * its slowest partition finished. Here `eachBatch` only queues the batch on its partition's
 * chain and returns; kafkajs fetches on while the chains work.
 *
 * What keeps this exact:
 * - **Order.** A partition's batches (of all three topics) run one after another, in the order
 *   they were fetched, and share the partition worker's lock with its timers.
 * - **Nothing is skipped.** When a batch fails, every later batch of its topic-partition that
 *   was already fetched is dropped, unapplied, and the consumer seeks back to where the failed
 *   batch started. Only a batch fetched from that offset or earlier clears the mark. (The fence
 *   alone would not catch this: it cuts records below it, but a later batch starts above it.)
 * - **Committed offsets follow Redis.** Offsets are resolved at once, so that fetching moves
 *   on, but they are committed to Kafka only after the batch is durable in Redis (autoCommit is
 *   off and kafkajs never commits resolved offsets by itself then). A new owner starts from the
 *   committed offsets and the fence skips what was applied after them.
 * - **Rebalances.** Batches queued before a rebalance are dropped when their turn comes; the
 *   partitions are fetched again from the committed offsets.
 * - **Backpressure.** At most QUEUE_DEPTH batches wait per partition; beyond that, `eachBatch`
 *   waits, and so does kafkajs's next fetch.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

/** Batches queued per partition before `eachBatch` waits (across the partition's three topics). */
export const QUEUE_DEPTH = 4;
/** Records applied per chunk of a long batch. */
const CHUNK = 2000;
/** Durable offsets go to Kafka at most this often. */
const COMMIT_INTERVAL_MS = 1000;
/** Back-off before a partition's next batch after consecutive failures: 100 ms doubling, at most 5 s. */
const BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export interface IntakeDeps {
  consumer: Consumer;
  metrics: Metrics;
  log: Logger;
  /** Applies records of one topic-partition, in order; resolves once they are durable in Redis. */
  process: (partition: number, topic: string, messages: readonly KafkaMessage[]) => Promise<void>;
  /** After each batch that was processed (backfill checks whether it may go live). */
  processed: () => Promise<void>;
}

interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export class Intake {
  private readonly deps: IntakeDeps;
  /** Bumped at every rebalance: batches queued under an older generation are dropped. */
  private generation = 0;
  /** Per partition: the tail of its chain and how many batches are on it. */
  private readonly chains = new Map<number, { tail: Promise<void>; queued: number; waiters: Array<() => void> }>();
  /** Topic-partition -> the offset a failed batch started at; later batches are dropped until one starts there or earlier. */
  private readonly refetchFrom = new Map<string, bigint>();
  /** Topic-partition -> the next offset after what is durable in Redis, not yet committed to Kafka. */
  private readonly durable = new Map<string, TopicPartitionOffset>();
  /** Consecutive failures per partition (back-off). */
  private readonly failures = new Map<number, number>();
  private committer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(deps: IntakeDeps) {
    this.deps = deps;
  }

  /** Starts committing durable offsets periodically. */
  start(): void {
    this.committer = setInterval(() => {
      this.committing = this.committing.then(() => this.commit());
    }, COMMIT_INTERVAL_MS);
  }

  /** A rebalance began or ended: queued batches are dropped and owned partitions re-fetched from committed offsets. */
  rebalanced(owned: readonly number[]): void {
    this.generation++;
    this.refetchFrom.clear();
    for (const [key, o] of this.durable) if (!owned.includes(o.partition)) this.durable.delete(key);
  }

  /** The `eachBatch` handler: queue, resolve, return (waiting only while the partition's queue is full). */
  async accept({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    const chain = this.chain(batch.partition);
    while (chain.queued >= QUEUE_DEPTH && !this.closed) {
      await new Promise<void>((resolve) => chain.waiters.push(resolve));
      await heartbeat();
    }
    // Closing: left unresolved and uncommitted, for whoever consumes next.
    if (this.closed) return;
    const generation = this.generation;
    chain.queued++;
    chain.tail = chain.tail
      .then(() => this.run(generation, batch.topic, batch.partition, batch.messages))
      .finally(() => {
        chain.queued--;
        chain.waiters.shift()?.();
      });
    resolveOffset(last.offset);
  }

  /**
   * Takes no more batches, waits until every queued one was processed or dropped, and commits
   * what is durable. Call it before the consumer stops (kafkajs commits only while running).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.chains.values()) for (const wake of c.waiters.splice(0)) wake();
    await Promise.all([...this.chains.values()].map((c) => c.tail));
    if (this.committer) clearInterval(this.committer);
    await this.committing;
    await this.commit();
  }

  private chain(partition: number) {
    let c = this.chains.get(partition);
    if (c === undefined) {
      c = { tail: Promise.resolve(), queued: 0, waiters: [] };
      this.chains.set(partition, c);
    }
    return c;
  }

  private async run(generation: number, topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void> {
    const { metrics, log } = this.deps;
    const key = `${topic}\u0000${partition}`;
    if (generation !== this.generation) {
      metrics.batchesDropped.inc({ reason: 'rebalance' });
      return;
    }
    const first = (messages[0] as KafkaMessage).offset;
    const from = this.refetchFrom.get(key);
    if (from !== undefined) {
      if (BigInt(first) > from) {
        // Fetched after a failed batch of this topic-partition: applying it would skip records.
        metrics.batchesDropped.inc({ reason: 'after_failure' });
        this.seek(topic, partition, from);
        return;
      }
      this.refetchFrom.delete(key);
    }
    const failures = this.failures.get(partition) ?? 0;
    if (failures > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(BACKOFF_MS * 2 ** (failures - 1), MAX_BACKOFF_MS)));
    let start = first;
    try {
      for (let i = 0; i < messages.length; i += CHUNK) {
        const chunk = messages.slice(i, i + CHUNK);
        start = (chunk[0] as KafkaMessage).offset;
        await this.deps.process(partition, topic, chunk);
        const next = (BigInt((chunk[chunk.length - 1] as KafkaMessage).offset) + 1n).toString();
        if (generation === this.generation) this.durable.set(key, { topic, partition, offset: next });
      }
      this.failures.delete(partition);
    } catch (err) {
      this.failures.set(partition, failures + 1);
      log.error({ err, topic, partition, offset: start }, 'batch failed; fetching it again');
      this.refetchFrom.set(key, BigInt(start));
      this.seek(topic, partition, BigInt(start));
      return;
    }
    try {
      await this.deps.processed();
    } catch (err) {
      log.warn({ err }, 'post-batch check failed');
    }
  }

  private seek(topic: string, partition: number, offset: bigint): void {
    try {
      this.deps.consumer.seek({ topic, partition, offset: offset.toString() });
    } catch (err) {
      // Not running any more (stopping): the next owner starts from the committed offsets.
      this.deps.log.warn({ err, topic, partition }, 'seek refused');
    }
  }

  /** Commits the durable offsets gathered since the last commit; on failure they wait for the next one. */
  private async commit(): Promise<void> {
    if (this.durable.size === 0) return;
    const offsets = [...this.durable.values()];
    this.durable.clear();
    try {
      await this.deps.consumer.commitOffsets(offsets);
    } catch (err) {
      this.deps.log.warn({ err }, 'offset commit failed; retried with the next one');
      for (const o of offsets) {
        const key = `${o.topic}\u0000${o.partition}`;
        if (!this.durable.has(key)) this.durable.set(key, o);
      }
    }
  }
}
