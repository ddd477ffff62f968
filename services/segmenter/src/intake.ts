/**
 * Decouples fetching from processing. kafkajs fetches again only once every batch of the
 * previous fetch was handed back, so a segmenter that processed inside `eachBatch` idled while
 * its slowest partition finished. Here `eachBatch` only queues the batch on its partition's
 * lane and returns; kafkajs fetches on while the lanes work. A lane takes what waits on it, of
 * all three topics, as one unit of work: one read and one atomic commit for up to UNIT_RECORDS
 * records (the domain is order-independent across topics), so round trips per record fall as
 * load rises.
 *
 * What keeps this exact:
 * - **Order.** A partition's units run one after another, each topic's records in offset
 *   order, and share the partition worker's lock with its timers.
 * - **Nothing is skipped.** Every part carries the offset its fetch started at, and the worker
 *   refuses a part that starts beyond its topic's fence (FetchGapError: nothing written); the
 *   consumer then seeks back to the fence. When a unit fails, every batch of its
 *   topic-partitions fetched after it is dropped, unapplied, and the consumer seeks back to
 *   where the failed part's fetch started; only a batch fetched from there or earlier clears the
 *   mark. (The fence alone cuts records below it, but not a gap above it.)
 * - **Committed offsets follow the relay.** Offsets are resolved at once, so that fetching moves
 *   on, but they are committed to Kafka only after Redis holds the records and their changes
 *   were relayed (autoCommit is off and kafkajs never commits resolved offsets by itself then),
 *   never moving back. The next unit of the partition runs while a unit's relay is in flight.
 *   A relay that fails is retried, from the outbox in Redis, with the unit's back-off, until it
 *   succeeds or the partition is no longer assigned here (its records stay applied and nothing
 *   is fetched again; the next owner drains the outbox); its offsets wait meanwhile.
 *   A new owner starts from the fences (the service seeks each topic-partition there on
 *   assignment).
 * - **Rebalances.** Queued batches of partitions this member lost are dropped (the new owner
 *   fetches them). Those of partitions it keeps are applied: kafkajs may already have fetched
 *   later ones with the new assignment's offsets, so dropping older ones would leave a gap.
 * - **Backpressure.** At most QUEUE_DEPTH batches wait per partition; beyond that, `eachBatch`
 *   waits, and so does kafkajs's next fetch.
 * - **Redis lost writes.** When the worker finds a fence behind one it saw (FenceLostError), the
 *   partition's waiting batches are dropped and the service audits it (src/fence-guard.ts): it
 *   seeks each topic back to the fence, or holds the partition for an operator. While lost
 *   records are re-applied, the committed offset is not moved back below where it stood
 *   (`holdCommitsBelow`): it still says up to where changes were emitted.
 *
 * Readiness: `stalled()` names the partitions with work in hand and no successful unit for a
 * while (Redis refusing commits, a hung call), `backpressured()` says whether kafkajs's fetch
 * waits on a full lane (then no fetch is expected).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';
import { FenceLostError } from './fence-audit.ts';
import { type Applied, type BatchPart, FetchGapError, nextOffset } from './partition-worker.ts';

/** Batches waiting per partition before `eachBatch` waits (across the partition's three topics). */
const QUEUE_DEPTH = 4;
/**
 * Relays a lane's next unit waits for: unit n+1 is applied while the relay of n is in flight,
 * n+2 waits for it (the changes held in memory stay bounded, and the queue depth still holds
 * kafkajs's fetch back when the broker is slow).
 */
const RELAYS_IN_FLIGHT = 1;
/** Records per unit of work: what waits is taken together, up to this many. */
const UNIT_RECORDS = 2000;
/** Durable offsets go to Kafka at most this often. */
const COMMIT_INTERVAL_MS = 1000;
/** Back-off before a partition's next unit after consecutive failures: 100 ms doubling, at most 5 s. */
const BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export interface IntakeDeps {
  consumer: Consumer;
  metrics: Metrics;
  log: Logger;
  /**
   * Applies records of partition p (parts of one or more topics) at once; resolves once they
   * are durable in Redis, with `relayed`, which settles once their changes (and every earlier
   * unit's of the partition) were produced to Kafka.
   */
  process: (partition: number, parts: readonly BatchPart[]) => Promise<Applied>;
  /** Relays partition p's outbox again (after a failed relay); resolves once the broker acked all of it. */
  relayAgain: (partition: number) => Promise<void>;
  /** After each unit that was processed (backfill checks whether it may go live). */
  processed: () => Promise<void>;
  /** Whether this member owns partition p now. */
  owns: (partition: number) => boolean;
  /** The input topics (paused while closing). */
  topics: readonly string[];
  /** Redis lost writes of partition p (its waiting batches were dropped): audit it again. */
  fenceLost: (partition: number, err: FenceLostError) => void;
}

/** A fetched batch waiting on its partition's lane. */
interface Waiting {
  topic: string;
  /** The offset its fetch started at: everything from there to its last record is in it. */
  start: string;
  messages: readonly KafkaMessage[];
}

/** A partition's lane: its batches waiting, the unit running, `eachBatch` calls waiting for room, and per topic what its failures and commits left. */
interface Lane {
  waiting: Waiting[];
  running: Promise<void> | null;
  /** The relays of the lane's units, in unit order (each marks its unit's offsets durable). */
  relaying: Promise<void>;
  /** The relays not yet settled (each settles once its unit's offsets were marked) and when each was queued (ms), oldest first. */
  inFlight: Array<{ since: number; settled: Promise<void> }>;
  waiters: Array<() => void>;
  /** Topic -> where a failed unit's part was fetched from; later batches are dropped until one starts there or earlier. */
  refetchFrom: Map<string, bigint>;
  /** Topic -> the next offset after what Redis holds, not yet committed to Kafka. */
  durable: Map<string, bigint>;
  /**
   * Topic -> an offset Kafka's committed offset must not move back below: while records Redis
   * lost are re-applied, the committed offset still says up to where their changes were emitted.
   */
  floor: Map<string, bigint>;
  /** Consecutive failed units (back-off). */
  failures: number;
  /** When the first of the current run of failed units failed (ms), or null. */
  failingSince: number | null;
  /** When the running unit started (ms), or null. */
  runningSince: number | null;
}

/** How long a full lane's `eachBatch` waits at most before it heartbeats again. */
const HEARTBEAT_WAIT_MS = 1000;
/** kafkajs's Batch carries the offset its fetch asked for; its types leave it out. */
const fetchedOffsetOf = (batch: EachBatchPayload['batch']): string | undefined => (batch as { fetchedOffset?: string }).fetchedOffset;

export class Intake {
  private readonly deps: IntakeDeps;
  private readonly lanes = new Map<number, Lane>();
  /** The partitions assigned to this member (also while a fence is audited or a partition held), as `rebalanced` last said. */
  private assigned: ReadonlySet<number> = new Set();
  private committer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Resolves when `close` begins (cuts a relay retry's back-off short). */
  private readonly closing: Promise<void>;
  private startClosing: () => void = () => undefined;

  constructor(deps: IntakeDeps) {
    this.deps = deps;
    this.closing = new Promise((resolve) => {
      this.startClosing = resolve;
    });
  }

  /** Starts committing durable offsets periodically. */
  start(): void {
    this.committer = setInterval(() => {
      this.committing = this.committing.then(() => this.commit());
    }, COMMIT_INTERVAL_MS);
  }

  /**
   * The assignment changed (`owned`: every partition assigned here; a relay retry of any other
   * gives up): what this member no longer owns is forgotten (its queued batches are
   * dropped when their turn comes; the new owner fetches from the fences). Batches of
   * partitions it keeps are still applied: kafkajs may have fetched some of them with the new
   * assignment's offsets already, and dropping the older ones would skip records.
   */
  rebalanced(owned: readonly number[]): void {
    this.assigned = new Set(owned);
    for (const [partition, lane] of this.lanes) {
      if (this.assigned.has(partition)) continue;
      lane.durable.clear();
      lane.refetchFrom.clear();
      lane.floor.clear();
    }
  }

  /**
   * Redis lost writes of `topic` in `partition` and the records are re-applied from its fence: the
   * offset committed to Kafka stays at `offset` (up to where changes were emitted) until the
   * re-application passes it, so that a crash meanwhile still knows which changes left.
   */
  holdCommitsBelow(partition: number, topic: string, offset: bigint): void {
    this.lane(partition).floor.set(topic, offset);
  }

  /** The `eachBatch` handler: queue, resolve, return (waiting only while the partition's lane is full). */
  async accept({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    const lane = this.lane(batch.partition);
    while (lane.waiting.length >= QUEUE_DEPTH && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, HEARTBEAT_WAIT_MS);
        lane.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await heartbeat();
    }
    // Closing: left unresolved and uncommitted, for whoever consumes next.
    if (this.closed) return;
    const start = fetchedOffsetOf(batch) ?? (batch.messages[0] as KafkaMessage).offset;
    lane.waiting.push({ topic: batch.topic, start, messages: batch.messages });
    resolveOffset(last.offset);
    this.pump(batch.partition, lane);
  }

  /**
   * Takes no more batches, waits until every queued one was processed or dropped, and commits
   * what is durable. Call it before the consumer stops (kafkajs commits only while running).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.startClosing();
    // Paused, kafkajs stops fetching what `accept` would no longer take (offsets still commit).
    this.deps.consumer.pause(this.deps.topics.map((topic) => ({ topic })));
    for (const lane of this.lanes.values()) for (const wake of lane.waiters.splice(0)) wake();
    await Promise.all([...this.lanes.values()].map((lane) => lane.running));
    await Promise.all([...this.lanes.values()].map((lane) => lane.relaying));
    if (this.committer) clearInterval(this.committer);
    await this.committing;
    await this.commit();
  }

  private lane(partition: number): Lane {
    let lane = this.lanes.get(partition);
    if (lane === undefined) {
      lane = {
        waiting: [],
        running: null,
        relaying: Promise.resolve(),
        inFlight: [],
        waiters: [],
        refetchFrom: new Map(),
        durable: new Map(),
        floor: new Map(),
        failures: 0,
        failingSince: null,
        runningSince: null,
      };
      this.lanes.set(partition, lane);
    }
    return lane;
  }

  /** Runs the lane's units one after another until nothing waits. */
  private pump(partition: number, lane: Lane): void {
    if (lane.running !== null) return;
    lane.running = (async () => {
      while (lane.waiting.length > 0) {
        const unit = this.take(partition, lane);
        for (const wake of lane.waiters.splice(0)) wake();
        if (unit.length > 0) await this.run(partition, lane, unit);
      }
    })().finally(() => {
      lane.running = null;
      // A batch pushed while the loop was finishing.
      if (lane.waiting.length > 0) this.pump(partition, lane);
    });
  }

  /**
   * What waits on the lane, up to UNIT_RECORDS records, merged per topic (in fetch order).
   * Dropped: batches of a partition this member no longer owns, and batches fetched after a
   * failed unit. A batch that does not continue its topic's part ends the unit (the fence check
   * of the next unit decides).
   */
  private take(partition: number, lane: Lane): BatchPart[] {
    const { metrics } = this.deps;
    if (!this.deps.owns(partition)) {
      metrics.batchesDropped.inc({ reason: 'rebalance' }, lane.waiting.splice(0).length);
      return [];
    }
    const parts = new Map<string, BatchPart & { messages: KafkaMessage[] }>();
    let records = 0;
    while (lane.waiting.length > 0 && records < UNIT_RECORDS) {
      const head = lane.waiting[0] as Waiting;
      const { topic } = head;
      const from = lane.refetchFrom.get(topic);
      if (from !== undefined) {
        if (BigInt(head.start) > from) {
          // Fetched after a failed unit of this topic-partition: applying it would skip records.
          lane.waiting.shift();
          metrics.batchesDropped.inc({ reason: 'after_failure' });
          this.seek(topic, partition, from);
          continue;
        }
        lane.refetchFrom.delete(topic);
      }
      const part = parts.get(topic);
      const lastOffset = part === undefined ? null : BigInt((part.messages[part.messages.length - 1] as KafkaMessage).offset);
      if (lastOffset !== null && BigInt(head.start) > lastOffset + 1n) break;
      const room = UNIT_RECORDS - records;
      const start = head.start;
      let messages = head.messages;
      if (messages.length > room) {
        head.messages = messages.slice(room);
        head.start = (head.messages[0] as KafkaMessage).offset;
        messages = messages.slice(0, room);
      } else {
        lane.waiting.shift();
      }
      if (part === undefined) {
        parts.set(topic, { topic, start, messages: [...messages] });
      } else {
        // Consecutive batches of one topic-partition continue each other; never apply an offset twice.
        for (const m of messages) if (BigInt(m.offset) > (lastOffset as bigint)) part.messages.push(m);
      }
      records += messages.length;
    }
    return [...parts.values()];
  }

  private async run(partition: number, lane: Lane, unit: readonly BatchPart[]): Promise<void> {
    const { log, metrics } = this.deps;
    await this.backOff(lane);
    if (!this.deps.owns(partition)) {
      metrics.batchesDropped.inc({ reason: 'rebalance' }, unit.length);
      return;
    }
    // The relays of the lane beyond RELAYS_IN_FLIGHT (oldest first) must have settled.
    const older = lane.inFlight[lane.inFlight.length - RELAYS_IN_FLIGHT - 1];
    if (older !== undefined) await older.settled;
    lane.runningSince = Date.now();
    let applied: Applied;
    try {
      applied = await this.deps.process(partition, unit);
    } catch (err) {
      lane.runningSince = null;
      if (err instanceof FenceLostError) {
        // Everything fetched for this partition assumed the fence it had: the audit seeks again.
        metrics.batchesDropped.inc({ reason: 'fence_lost' }, lane.waiting.splice(0).length + unit.length);
        lane.refetchFrom.clear();
        lane.durable.clear();
        this.deps.fenceLost(partition, err);
        return;
      }
      this.failed(partition, lane, unit, err);
      return;
    }
    lane.runningSince = null;
    // Off the lane: the next unit runs while this one's changes are produced; its offsets wait for
    // them. The unit succeeded (no more back-off, not stalled) once they were.
    // Only where each part ends: the unit's records are not kept alive while the relay waits.
    const ends = unit.map(({ topic, messages }) => ({ topic, next: nextOffset(messages) }));
    lane.relaying = lane.relaying.then(() => this.relayed(partition, lane, ends, applied.relayed).finally(() => lane.inFlight.shift()));
    lane.inFlight.push({ since: Date.now(), settled: lane.relaying });
    try {
      await this.deps.processed();
    } catch (err) {
      log.warn({ err }, 'post-batch check failed');
    }
  }

  /**
   * Waits for a unit's relay; when it fails, relays the outbox again (after the back-off) until
   * the broker acked, and then marks the unit's offsets durable (unless the partition is being
   * audited meanwhile: the audit seeks from the fence). Gives up, leaving the offsets where they
   * are, once the partition is no longer assigned here, or after one more attempt once the
   * intake closes: the outbox keeps the changes for the next owner's drain or the stop's.
   */
  private async relayed(partition: number, lane: Lane, ends: ReadonlyArray<{ topic: string; next: bigint }>, relayed: Promise<void>): Promise<void> {
    for (let attempt: Promise<void> = relayed; ; ) {
      try {
        await attempt;
        break;
      } catch (err) {
        lane.failures++;
        lane.failingSince ??= Date.now();
        this.deps.log.error({ err, partition }, 'relay failed; relaying the outbox again');
        if (this.closed) return;
        await this.backOff(lane);
        if (!this.assigned.has(partition)) return;
        attempt = this.deps.relayAgain(partition);
      }
    }
    lane.failures = 0;
    lane.failingSince = null;
    for (const { topic, next } of ends) this.markDurable(partition, lane, topic, next);
  }

  /** After consecutive failures: 100 ms doubling, at most 5 s (cut short when the intake closes). */
  private async backOff(lane: Lane): Promise<void> {
    if (lane.failures === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise((resolve) => {
      timer = setTimeout(resolve, Math.min(BACKOFF_MS * 2 ** (lane.failures - 1), MAX_BACKOFF_MS));
    });
    await Promise.race([elapsed, this.closing]);
    clearTimeout(timer);
  }

  /**
   * A unit failed: back off, drop what was fetched after it, and fetch it again from where its
   * parts' fetches started (a gap from the fence).
   */
  private failed(partition: number, lane: Lane, unit: readonly BatchPart[], err: unknown): void {
    lane.failures++;
    lane.failingSince ??= Date.now();
    for (const { topic, start } of unit) {
      const from = err instanceof FetchGapError && err.topic === topic ? err.fence : start;
      this.deps.log.error({ err, topic, partition, offset: from }, 'unit failed; fetching it again');
      lane.refetchFrom.set(topic, BigInt(from));
      this.seek(topic, partition, BigInt(from));
    }
  }

  /**
   * Partitions with work in hand and no successful unit for `stallMs`: units (or their relays)
   * failing since, or one running, or a relay in flight, for that long.
   */
  stalled(stallMs: number, now = Date.now()): number[] {
    const stalled: number[] = [];
    for (const [partition, lane] of this.lanes) {
      if (!this.deps.owns(partition)) continue;
      const since = lane.failingSince ?? lane.runningSince ?? lane.inFlight[0]?.since ?? null;
      if (since !== null && now - since > stallMs) stalled.push(partition);
    }
    return stalled;
  }

  /** True when a lane is full: kafkajs's next fetch waits for room, so no fetch completes meanwhile. */
  backpressured(): boolean {
    for (const lane of this.lanes.values()) if (lane.waiting.length >= QUEUE_DEPTH) return true;
    return false;
  }

  /** Records an offset to commit, never moving one back, and only for a partition this member owns. */
  private markDurable(partition: number, lane: Lane, topic: string, offset: bigint): void {
    if (!this.deps.owns(partition)) return;
    const floor = lane.floor.get(topic);
    if (floor !== undefined) {
      if (offset < floor) return;
      lane.floor.delete(topic);
    }
    const known = lane.durable.get(topic);
    if (known === undefined || offset > known) lane.durable.set(topic, offset);
  }

  private seek(topic: string, partition: number, offset: bigint): void {
    try {
      this.deps.consumer.seek({ topic, partition, offset: offset.toString() });
    } catch (err) {
      // Not running any more (stopping): the next owner starts from the fences.
      this.deps.log.warn({ err, topic, partition }, 'seek refused');
    }
  }

  /** Commits the durable offsets gathered since the last commit; on failure they wait for the next one. */
  private async commit(): Promise<void> {
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [partition, lane] of this.lanes) {
      for (const [topic, offset] of lane.durable) offsets.push({ topic, partition, offset: offset.toString() });
      lane.durable.clear();
    }
    if (offsets.length === 0) return;
    try {
      await this.deps.consumer.commitOffsets(offsets);
    } catch (err) {
      this.deps.log.warn({ err }, 'offset commit failed; retried with the next one');
      for (const o of offsets) this.markDurable(o.partition, this.lane(o.partition), o.topic, BigInt(o.offset));
    }
  }
}
