/**
 * Everything the segmenter does for one partition p, serialized by a per-partition lock:
 * apply a consumed batch (decode, read, pure apply, atomic commit) and fire due timers.
 * Batches of the three input topics and the timers of p all write p's keys, so they take
 * turns; different partitions run freely. The relay of p's outbox to the changes topic runs
 * off the lock, on p's relay chain: each commit appends its relay, and the relays run one
 * after another in commit order while the next unit is read, applied and committed.
 */
import {
  type InputEvent,
  type InputTopic,
  type RegistryClient,
  type SegmentChangeEvent,
  TOPICS,
  admissionError,
  type DecodeResult,
  decodeInputs,
  encodeOutputs,
} from '@crm/contracts';
import {
  type ApplyOutcome,
  type CustomerState,
  type DomainConfig,
  type RfmInput,
  type RfmSummary,
  type SegmentChange,
  type Transition,
  apply,
  decodeState,
  describe,
  encodeState,
  evaluate,
  nextDueAt,
  rescore,
  summarizeRfm,
} from '@crm/domain';
import {
  type BatchCommit,
  type BatchContext,
  type CommitResult,
  type CustomerWrite,
  type HistoryWrite,
  type IndexMove,
  type OutboxRecord,
  type PartitionKeys,
  ScriptRejectedError,
  ackOutbox,
  commitBatch,
  dueCustomers,
  parseStateRecord,
  prependHistory,
  readBatchContext,
  readOutbox,
} from '@crm/store';
import type { Redis } from 'ioredis';
import type { KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { SegmenterConfig } from './config.ts';
import type { DeploymentClock } from './deployment-clock.ts';
import { DeadLetters, type Refused } from './dead-letters.ts';
import { FenceLostError } from './fence-audit.ts';
import type { GroupSender } from './group-sender.ts';
import type { Metrics } from './metrics.ts';

/** Commit attempts of one batch before giving up (then kafkajs redelivers it). */
const MAX_COMMIT_ATTEMPTS = 5;
/**
 * Records per send. About 300 bytes each: a chunk of 1000 keeps a partition's record batch
 * well under the broker's default message.max.bytes (1 MiB) even when the group sender puts a
 * few workers' chunks for the same partition into one request.
 */
const RELAY_CHUNK = 1000;
/** Outbox entries read at once when relaying from Redis (produced in order, RELAY_CHUNK records per send). */
const DRAIN_ENTRIES = 50;
export const SOURCE = 'urn:crm:segmenter';

export interface WorkerDeps {
  config: SegmenterConfig;
  redis: Redis;
  producer: Producer;
  registry: RegistryClient | undefined;
  metrics: Metrics;
  log: Logger;
  /** The domain configuration in force (quantile mode swaps the RFM cuts while running). */
  domain: () => DomainConfig;
  /** Actual topic name (with any suffix) -> contract topic. */
  canonical: (topic: string) => InputTopic;
  /** Produces to the changes topic, sharing requests with the other workers. */
  changesSender: GroupSender;
  /** The deployment's stream clock, shared by every partition and member. */
  clock: DeploymentClock;
}

/** A serial queue: `run` waits for every earlier task of the same worker. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

interface Decoded {
  offset: string;
  event: InputEvent;
}

/** A customer of the batch being applied (applyEvents). */
interface PendingCustomer {
  /** The stored state (null: none), then the state after each event applied. */
  state: CustomerState | null;
  /** Its events not applied yet. */
  left: number;
  /** What the commit writes, once its last event is applied. */
  write: CustomerWrite | null;
}

/** Consumed records of one input topic of the partition, in offset order. */
export interface BatchPart {
  topic: string;
  /** The offset the fetch of these records started at: every record from there to the last is in `messages`. */
  start: string;
  messages: readonly KafkaMessage[];
}

/**
 * A part starts beyond the topic's fence: the records in between were fetched by no batch that
 * reached this partition (a batch that failed, or one kafkajs fetched before a rejoin and that
 * was not applied). Nothing is written; the caller fetches again from the fence.
 */
export class FetchGapError extends Error {
  override name = 'FetchGapError';
  readonly topic: string;
  readonly fence: string;
  constructor(topic: string, fence: string, start: string) {
    super(`${topic}: the part starts at offset ${start}, beyond the fence ${fence}; records in between were not applied`);
    this.topic = topic;
    this.fence = fence;
  }
}

/** The offset after a part's (or batch's) last record. */
export function nextOffset(messages: readonly KafkaMessage[]): bigint {
  return BigInt((messages[messages.length - 1] as KafkaMessage).offset) + 1n;
}

interface DecodedPart extends BatchPart {
  valid: Decoded[];
  invalid: Refused[];
}

/** Stream ids ("<ms>-<seq>") compared numerically. */
function streamIdAtMost(a: string, b: string): boolean {
  const [am, as] = a.split('-') as [string, string];
  const [bm, bs] = b.split('-') as [string, string];
  const ams = BigInt(am);
  const bms = BigInt(bm);
  return ams < bms || (ams === bms && BigInt(as) <= BigInt(bs));
}

/** An applied unit: durable in Redis; `relayed` settles once its changes (and every earlier commit's) were acked by Kafka. */
export interface Applied {
  relayed: Promise<void>;
}

/** A commit's outcome and the records it appended to the outbox, for the relay to produce from memory. */
interface Committed {
  result: CommitResult;
  records: OutboxRecord[];
  /** The fence the commit moved to (topics it moved). */
  fence: Readonly<Record<string, string>>;
  /** This worker's entries in the outbox ahead of the commit's (untrimmed when it was sent). */
  ours: number;
}

export class PartitionWorker {
  readonly partition: number;
  private readonly deps: WorkerDeps;
  private readonly keys: PartitionKeys;
  private readonly lock = new Lock();
  /** The relay chain: relays of this partition's commits, one after another, in commit order. */
  private readonly relays = new Lock();
  /** The outbox id of the last entry this worker produced (acks=all), or null. */
  private relayedThrough: string | null = null;
  /**
   * Every outbox entry not yet relayed is one this worker committed since, whose relay is on the
   * chain: true from a commit that found the outbox empty, or a relay that emptied it; false at
   * start (a previous owner's entries), after a failed relay or trim, and after Redis lost writes.
   */
  private outboxClean = false;
  /**
   * The outbox ids this worker appended and has not sent a trim for yet, oldest first. Commands
   * of one connection run in order, and no trim is sent while a commit is in flight
   * (`trimThrough`), so at a commit they are exactly this worker's entries still in the outbox:
   * a backlog larger than their count means entries of someone else (another member that owned
   * the partition meanwhile), and the relay then reads the outbox.
   */
  private readonly untrimmed: string[] = [];
  /** Settles when the commit in flight (at most one: commits run under the lock) has its reply; null when none is. */
  private commitInFlight: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly deadLetters: DeadLetters;
  /** Backfill: state and indexes are written, changes are not emitted, time is stream time. */
  private quiet = false;
  /**
   * Topic -> the highest fence this worker read or wrote. Fences only move forward, so a lower
   * one read later means Redis lost writes (FenceLostError).
   */
  private readonly knownFence = new Map<string, bigint>();
  /** Topic -> the fence after the last commit whose changes this worker relayed. */
  private readonly relayedFence = new Map<string, bigint>();
  /**
   * Topic -> the offset below which records are re-applied silently after Redis lost writes:
   * their changes were emitted before (docs/architecture.md, "Durability"). Emitting them again
   * would not repeat the first emission: the topics of a partition interleave by fetch timing,
   * so a re-application computes the same final state through other intermediate ones. Timers
   * wait meanwhile: they would evaluate states the emitted changes never saw.
   */
  private silentUntil = new Map<string, bigint>();

  constructor(partition: number, keys: PartitionKeys, deps: WorkerDeps) {
    this.partition = partition;
    this.keys = keys;
    this.deps = deps;
    this.log = deps.log.child({ partition });
    const { producer, registry, metrics, config } = deps;
    this.deadLetters = new DeadLetters({ producer, registry, metrics, log: this.log, topic: config.topics.deadLetter, source: SOURCE });
  }

  /**
   * The clock timers fire by: wall time, or (CRM_CLOCK=stream, backfill) the deployment's
   * stream clock: the latest event time over all partitions, not this partition's own.
   */
  now(): number {
    return this.usesStreamClock ? this.deps.clock.now() : Date.now();
  }

  /** Whether this worker's time is the deployment's stream clock (and advances it). */
  private get usesStreamClock(): boolean {
    return this.deps.config.clock === 'stream' || this.quiet;
  }

  /** Quiet (backfill) or live. Takes effect from the next batch or timer run. */
  setQuiet(quiet: boolean): void {
    this.quiet = quiet;
  }

  /**
   * Runs `task` alone on this partition (no batch, timer or relay in between), e.g. the fence
   * audit on assignment: it waits for the relays in flight.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      await this.relays.run(async () => undefined);
      return task();
    });
  }

  /** The highest fence of `topic` this worker has seen, or null. */
  knownFenceOf(topic: string): string | null {
    return this.knownFence.get(topic)?.toString() ?? null;
  }

  /** The fence of `topic` after the last commit whose changes this worker relayed, or null. */
  relayedFenceOf(topic: string): string | null {
    return this.relayedFence.get(topic)?.toString() ?? null;
  }

  /**
   * The partition restarts from `fence` (after an audit): forget what was known before, and
   * re-apply the records below `silentUntil` (per topic) without emitting their changes again
   * and without firing timers.
   */
  restartFrom(fence: Readonly<Record<string, string>>, silentUntil: ReadonlyMap<string, string>): void {
    this.knownFence.clear();
    for (const [topic, offset] of Object.entries(fence)) this.knownFence.set(topic, BigInt(offset));
    this.silentUntil = new Map([...silentUntil].map(([t, o]) => [t, BigInt(o)]));
    // Redis may hold outbox entries again whose trim it lost, and have lost entries it appended.
    this.outboxClean = false;
    this.untrimmed.length = 0;
  }

  /** Throws FenceLostError when Redis' fence is behind (or without) one this worker saw before; else remembers it. */
  private checkFence(fence: Readonly<Record<string, string>>): void {
    for (const [topic, known] of this.knownFence) {
      const now = fence[topic];
      if (now === undefined || BigInt(now) < known) throw new FenceLostError(this.partition, topic, now ?? null, known.toString());
    }
    this.learnFence(fence);
  }

  private learnFence(fence: Readonly<Record<string, string>>): void {
    for (const [topic, offset] of Object.entries(fence)) {
      const o = BigInt(offset);
      if (o > (this.knownFence.get(topic) ?? -1n)) this.knownFence.set(topic, o);
    }
  }

  /** True while re-application has not reached the offsets whose changes were emitted before Redis lost them (forgets the topics it has). */
  private stillReapplying(): boolean {
    for (const [topic, until] of this.silentUntil) {
      if ((this.knownFence.get(topic) ?? -1n) < until) return true;
      this.silentUntil.delete(topic);
    }
    return false;
  }

  /** Whether commits keep the recent-change histories (not while backfilling: no change is emitted). */
  private get keepsHistory(): boolean {
    return this.deps.config.historyLength > 0 && !this.quiet;
  }

  /**
   * The recent-change histories to rewrite: each customer's stored history with their new
   * changes on top; a customer whose erasure was applied restarts from the changes after it.
   */
  private historyOf(ctx: BatchContext, changes: readonly SegmentChange[], erased: ReadonlyMap<string, number> = new Map()): HistoryWrite[] | undefined {
    if (!this.keepsHistory) return undefined;
    const perCustomer = new Map<string, SegmentChange[]>();
    for (const id of erased.keys()) perCustomer.set(id, []);
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i] as SegmentChange;
      if (erased.size > 0 && i < (erased.get(c.customerId) ?? 0)) continue;
      const list = perCustomer.get(c.customerId);
      if (list === undefined) perCustomer.set(c.customerId, [c]);
      else list.push(c);
    }
    const { historyLength: length, topicSuffix } = this.deps.config;
    const writes: HistoryWrite[] = [];
    for (const [customerId, list] of perCustomer) {
      const stored = erased.has(customerId) ? null : (ctx.histories.get(customerId) ?? null);
      writes.push({ customerId, packed: prependHistory(stored, list, length, topicSuffix) });
    }
    return writes;
  }

  /** The records of the changes topic (none while backfilling). */
  private async encodeChanges(changes: readonly SegmentChange[]): Promise<OutboxRecord[]> {
    if (this.quiet) return [];
    const { registry } = this.deps;
    // toChangeEvent's output is proven to satisfy the contract (change-event.test.ts): no zod pass per change.
    const values = await encodeOutputs(TOPICS.segmentChanges, changes.map(toChangeEvent), registry, { checked: true });
    return changes.map((c, i) => ({ key: c.customerId, value: values[i] as Buffer }));
  }

  /**
   * Applies consumed records of partition p, of one or more input topics (each part in offset
   * order), in one read and one atomic commit, and returns once the outbox is relayed too.
   */
  async processBatch(parts: readonly BatchPart[]): Promise<void> {
    await (await this.applyBatch(parts)).relayed;
  }

  /**
   * Applies consumed records of partition p, of one or more input topics (each part in offset
   * order), in one read and one atomic commit. Resolves once state, changes and timers are
   * durable in Redis; the commit's relay then runs on the relay chain, off the lock, so the
   * next unit can be read and committed meanwhile. The caller commits the offsets only once
   * `relayed` resolved (the fence audit relies on it: docs/architecture.md, "Durability").
   */
  applyBatch(parts: readonly BatchPart[]): Promise<Applied> {
    return this.lock.run(async () => {
      const started = performance.now();
      const decoded: DecodedPart[] = [];
      let records = 0;
      for (const part of parts) {
        if (part.messages.length === 0) continue;
        decoded.push({ ...part, ...(await this.decode(part.topic, part.messages)) });
        records += part.messages.length;
      }
      if (records === 0) return { relayed: Promise.resolve() };
      // Before the commit: a crash in between leaves the clock ahead of records that are
      // applied on redelivery, never behind records that are applied (an as-of replay's end).
      if (this.usesStreamClock) await this.deps.clock.advance(latestEventTime(decoded));
      const committed = await this.applyAndCommit(decoded);
      const relayed = this.relayCommitted(committed);
      this.deps.metrics.batchSize.observe(records);
      this.deps.metrics.batchDuration.observe((performance.now() - started) / 1000);
      return { relayed };
    });
  }

  /**
   * The instant "too far in the future" is measured from (docs/segmentation.md, "Event-time
   * bounds"): the wall clock; on the stream clock the later of the wall clock and the
   * deployment's stream clock. The stream clock alone would not do: it is 0 in a new deployment
   * and low while replaying old history, and would refuse every present-day event.
   */
  private async admissionReference(): Promise<number> {
    const wall = Date.now();
    if (this.deps.config.clock === 'wall') return wall;
    // Where the deployment's stream time stands (other members', or an earlier run's).
    await this.deps.clock.load();
    return Math.max(wall, this.deps.clock.latest());
  }

  /** Decodes the records and admits the events (keyed by their subject, within the event-time bounds). */
  private async decode(topic: string, messages: readonly KafkaMessage[]): Promise<{ valid: Decoded[]; invalid: Refused[] }> {
    const canonical = this.deps.canonical(topic);
    const { registry, config } = this.deps;
    const reference = await this.admissionReference();
    const valid: Decoded[] = [];
    const invalid: Refused[] = [];
    // One await for the batch: a record whose writer schema is known decodes synchronously.
    const results = await decodeInputs(
      canonical,
      messages.map((m) => m.value),
      registry,
    );
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as KafkaMessage;
      const res = results[i] as DecodeResult<InputTopic>;
      const error = res.ok ? admissionError(canonical, res.event, message.key, config.eventTimeBounds, reference) : res.error;
      if (error !== null) invalid.push({ message, error });
      else if (res.ok) valid.push({ offset: message.offset, event: res.event as InputEvent });
    }
    return { valid, invalid };
  }

  private async applyAndCommit(parts: readonly DecodedPart[]): Promise<Committed | null> {
    const { metrics } = this.deps;
    // Every valid record's customer: the fence, read together with them, only then says which
    // records are fresh (applyEvents' pendingCustomers counts the events of those alone).
    const customerIds = [...new Set(parts.flatMap((p) => p.valid.map((d) => d.event.subject)))];
    let deadLettered = false;

    return this.retryingConflicts(parts.map((p) => p.topic).join(','), async () => {
      const ctx = await readBatchContext(this.deps.redis, this.keys, customerIds, this.keepsHistory);
      this.checkFence(ctx.fence);
      const expected: Record<string, string | null> = {};
      const next: Record<string, string> = {};
      const toApply: Array<{ topic: string; events: Decoded[] }> = [];
      const dead: Array<{ topic: string; failures: Refused[] }> = [];
      for (const { topic, start, messages, valid, invalid } of parts) {
        const fence = ctx.fence[topic];
        if (fence !== undefined && BigInt(start) > BigInt(fence)) throw new FetchGapError(topic, fence, start);
        const after = nextOffset(messages);
        if (fence !== undefined && BigInt(fence) >= after) {
          // Redelivery of records already applied (crash before the offset commit, rebalance).
          metrics.eventsConsumed.inc({ topic, outcome: 'already_applied' }, messages.length);
          continue;
        }
        const fresh = (offset: string) => fence === undefined || BigInt(offset) >= BigInt(fence);
        expected[topic] = fence ?? null;
        next[topic] = after.toString();
        toApply.push({ topic, events: valid.filter((d) => fresh(d.offset)) });
        dead.push({ topic, failures: invalid.filter((i) => fresh(i.message.offset)) });
      }
      if (toApply.length === 0) return null;
      if (!deadLettered) {
        for (const { topic, failures } of dead) await this.deadLetters.produce(topic, this.partition, failures);
        deadLettered = true;
      }
      const { writes, changes, outcomes, erased, silenced } = this.applyEvents(ctx, toApply);
      const committed = await this.commit({ expected, next }, ctx, writes, changes, erased, silenced);
      this.learnFence(next);
      // applied; late: beyond the lateness allowance (docs/segmentation.md); erased: before an erasure.
      for (const [topic, counts] of outcomes) for (const [outcome, n] of counts) metrics.eventsConsumed.inc({ topic, outcome }, n);
      for (const { topic, failures } of dead) this.deadLetters.counted(topic, failures);
      return committed;
    });
  }

  /**
   * Runs `attempt` (read the partition, compute, commit) again when the commit is refused
   * because the partition moved since it was read (STALE_FENCE, STATE_CONFLICT); gives up after
   * MAX_COMMIT_ATTEMPTS and lets the caller's batch be redelivered.
   */
  private async retryingConflicts<T>(topics: string | null, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof ScriptRejectedError) || n >= MAX_COMMIT_ATTEMPTS) throw err;
        this.deps.metrics.commitConflicts.inc({ code: err.code });
        this.log.warn({ err, attempt: n, topics }, 'commit refused; re-reading the partition');
      }
    }
  }

  /**
   * The one atomic commit of this partition: states, and for `changes` the outbox records,
   * segment-index moves and recent-change histories (none while backfilling). Throws
   * ScriptRejectedError when the partition moved since it was read.
   */
  private async commit(
    fence: BatchCommit['fence'],
    ctx: BatchContext,
    writes: CustomerWrite[],
    changes: readonly SegmentChange[],
    erased?: ReadonlyMap<string, number>,
    silenced?: ReadonlySet<SegmentChange>,
  ): Promise<Committed> {
    const { redis, metrics } = this.deps;
    const emitted = silenced === undefined || silenced.size === 0 ? changes : changes.filter((c) => !silenced.has(c));
    const records = await this.encodeChanges(emitted);
    const t0 = performance.now();
    // No trim goes out until the reply (`trimThrough`): so these are exactly this worker's entries in the outbox at the commit.
    const ours = this.untrimmed.length;
    const reply = commitBatch(redis, this.keys, {
      fence,
      customers: writes,
      records,
      moves: changes.map(toIndexMove),
      history: this.historyOf(ctx, changes, erased),
    });
    this.commitInFlight = reply.then(
      () => undefined,
      () => undefined,
    );
    let result: CommitResult;
    try {
      result = await reply;
    } finally {
      this.commitInFlight = null;
    }
    metrics.redisCommit.observe((performance.now() - t0) / 1000);
    if (!this.quiet) countChanges(metrics, emitted);
    if (result.lastId !== null) this.untrimmed.push(result.lastId);
    return { result, records, fence: fence.next, ours };
  }

  /** Pure part of a batch: fold the events into the customers' states (topics in turn: the domain is order-independent). */
  private applyEvents(
    ctx: BatchContext,
    parts: ReadonlyArray<{ topic: string; events: readonly Decoded[] }>,
  ): {
    writes: CustomerWrite[];
    changes: SegmentChange[];
    outcomes: Map<string, Map<ApplyOutcome, number>>;
    erased: Map<string, number>;
    /** Changes of records re-applied after Redis lost them: emitted before, not emitted again. */
    silenced: Set<SegmentChange>;
  } {
    const domain = this.deps.domain();
    const customers = this.pendingCustomers(ctx, parts);
    const changes: SegmentChange[] = [];
    /** Topic -> outcome -> events. */
    const outcomes = new Map<string, Map<ApplyOutcome, number>>();
    /** Customer -> how many of `changes` came before (and with) their applied erasure. */
    const erased = new Map<string, number>();
    const silenced = new Set<SegmentChange>();
    for (const { topic, events } of parts) {
      const counts = outcomes.get(topic) ?? new Map<ApplyOutcome, number>();
      outcomes.set(topic, counts);
      const silentBelow = this.silentUntil.get(topic);
      for (const { offset, event } of events) {
        const id = event.subject;
        const customer = customers.get(id) as PendingCustomer;
        const res = apply(customer.state, event, domain, { topic, partition: this.partition, offset });
        customer.state = res.state;
        // Its last event: written now, while the domain still holds the view apply settled on (nextDueAt starts from it).
        if (--customer.left === 0) customer.write = this.write(ctx, id, res.state);
        for (const c of res.changes) changes.push(c);
        if (silentBelow !== undefined && BigInt(offset) < silentBelow) for (const c of res.changes) silenced.add(c);
        // The customer's recent history goes with the erasure (its exits included); what
        // follows it starts a new history. The changes themselves are all emitted.
        if (event.type === 'customer.erasure.requested' && res.outcome === 'applied') erased.set(id, changes.length);
        counts.set(res.outcome, (counts.get(res.outcome) ?? 0) + 1);
      }
    }
    const writes: CustomerWrite[] = [];
    for (const { write } of customers.values()) writes.push(write as CustomerWrite);
    return { writes, changes, outcomes, erased, silenced };
  }

  /**
   * The batch's customers in order of their first event, each with its stored state and the
   * number of its events: applyEvents writes a customer right after its last one.
   */
  private pendingCustomers(ctx: BatchContext, parts: ReadonlyArray<{ events: readonly Decoded[] }>): Map<string, PendingCustomer> {
    const customers = new Map<string, PendingCustomer>();
    for (const { events } of parts)
      for (const { event } of events) {
        const customer = customers.get(event.subject);
        if (customer === undefined) customers.set(event.subject, { state: decodeStored(ctx, event.subject), left: 1, write: null });
        else customer.left++;
      }
    return customers;
  }

  private write(ctx: BatchContext, id: string, state: CustomerState | null): CustomerWrite {
    const version = ctx.customers.get(id)?.version ?? 0;
    if (state === null) return { id, version, state: null, dueAt: null };
    const due = nextDueAt(state, this.deps.domain());
    // The record's field is the customer id: the encoding leaves it out.
    return { id, version, state: encodeState(state, id), dueAt: due };
  }

  /** Evaluates this partition's due customers (one commit of at most CRM_TIMER_BATCH). Returns how many fired. */
  async fireTimers(): Promise<number> {
    const fired = await this.lock.run(async () => {
      const { redis, config, metrics } = this.deps;
      if (this.stillReapplying()) return null;
      const now = this.now();
      const due = await dueCustomers(redis, this.keys, now, config.timerBatch);
      metrics.timersDue.set({ partition: String(this.partition) }, due.length);
      if (due.length === 0) return null;
      const domain = this.deps.domain();
      const committed = await this.reevaluate(due, (state) => evaluate(state, now, domain), now);
      metrics.timersFired.inc(due.length);
      return { n: due.length, relayed: this.relayCommitted(committed) };
    });
    if (fired === null) return 0;
    // Off the lock: the partition's next unit commits meanwhile.
    await fired.relayed;
    return fired.n;
  }

  /** Re-scores `customerIds` with the current RFM cuts (quantile scoring mode). Returns the changes committed. */
  async rescoreCustomers(customerIds: readonly string[]): Promise<number> {
    const { n, relayed } = await this.lock.run(async () => {
      const domain = this.deps.domain();
      const committed = await this.reevaluate(customerIds, (state) => rescore(state, domain), null);
      return { n: committed.result.appended, relayed: this.relayCommitted(committed) };
    });
    await relayed;
    return n;
  }

  /**
   * The commit path of changes that come from no input record (timers, rescoring): read the
   * customers, transform each state, commit with the fence unchanged but checked. Timers
   * always move forward past `now`, so a customer cannot spin.
   */
  private async reevaluate(ids: readonly string[], transform: (state: CustomerState) => Transition, now: number | null): Promise<Committed> {
    return this.retryingConflicts(null, async () => {
      const ctx = await readBatchContext(this.deps.redis, this.keys, ids, this.keepsHistory);
      this.checkFence(ctx.fence);
      const changes: SegmentChange[] = [];
      const writes: CustomerWrite[] = [];
      for (const id of ids) {
        const state = decodeStored(ctx, id);
        if (state === null) {
          writes.push({ id, version: 0, state: null, dueAt: null });
          continue;
        }
        const res = transform(state);
        for (const c of res.changes) changes.push(c);
        const w = this.write(ctx, id, res.state);
        writes.push(now !== null && w.dueAt !== null && w.dueAt <= now ? { ...w, dueAt: now + 1 } : w);
      }
      return this.commit({ expected: { ...ctx.fence }, next: {} }, ctx, writes, changes);
    });
  }

  /** The RFM inputs of every customer of the partition, as of the worker's clock, summarized. */
  async summarize(): Promise<RfmSummary> {
    const domain = this.deps.domain();
    const now = this.now();
    const inputs: RfmInput[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.deps.redis.hscan(this.keys.state, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) {
        const raw = flat[i] as string;
        const state = decodeState(parseStateRecord(raw).state as string, flat[i - 1] as string);
        inputs.push(describe(now > state.asOf ? evaluate(state, now, domain).state : state, domain));
      }
    } while (cursor !== '0');
    return summarizeRfm(inputs);
  }

  /** Every customer id of the partition, in chunks. */
  async *customerIds(chunk: number): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.deps.redis.hscan(this.keys.state, cursor, 'COUNT', chunk);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) yield ids;
    } while (cursor !== '0');
  }

  /** Relays the whole outbox (on assignment, before the partition's first batch; on stop), after the relays in flight. */
  relay(): Promise<number> {
    return this.lock.run(() => this.relays.run(() => this.drainOutbox()));
  }

  /**
   * Relays the whole outbox on the relay chain, off the lock (units and timers commit
   * meanwhile): the retry of a relay that failed, whose commit stays applied.
   */
  async relayAgain(): Promise<void> {
    try {
      await this.relays.run(() => this.drainOutbox());
    } catch (err) {
      this.relayFailed();
      throw err;
    }
  }

  /**
   * Appends a commit's relay to the relay chain (call it under the lock, right after the
   * commit, so that the chain's order is the commit order) and returns its outcome. When
   * nothing older was waiting in the outbox at the commit, or only this worker's entries whose
   * relays are ahead on the chain (`outboxClean`, and the backlog no larger than `untrimmed` at
   * the commit), the records are produced from memory and then trimmed;
   * otherwise the outbox is relayed from Redis, in order, the older entries first. Either way
   * the outbox is durable until the broker acked. A relay that fails leaves its entry in the
   * outbox and the outbox not clean: the next relays read it from Redis, so no change overtakes
   * an earlier one.
   */
  private relayCommitted(committed: Committed | null): Promise<void> {
    const relayed = this.relays.run(async () => {
      await this.produceCommitted(committed);
      this.relayedUpTo(committed);
    });
    // The caller awaits it after the lock is released; a failure before then is not unhandled.
    relayed.catch(() => this.relayFailed());
    return relayed;
  }

  /** The relay of one commit (on the relay chain): produces its changes, and what waits ahead of them, unless already produced. */
  private async produceCommitted(committed: Committed | null): Promise<void> {
    // No commit (records already applied, found again after a rebalance or a failure): the
    // outbox is relayed, whatever it holds.
    if (committed === null) {
      await this.drainOutbox();
      return;
    }
    const { lastId, backlog } = committed.result;
    // An earlier relay from Redis already produced this entry (and everything before it).
    if (lastId !== null && this.relayedThrough !== null && streamIdAtMost(lastId, this.relayedThrough)) return;
    // Nothing older is waiting when the outbox was empty at the commit, or when it is clean
    // (every entry not relayed was this worker's, relayed by the chain ahead since) and held
    // only this worker's entries at the commit.
    if (backlog > 0 && !(this.outboxClean && backlog <= committed.ours)) {
      await this.drainOutbox();
      return;
    }
    // A commit that appended nothing (only dead letters): its fence is relayed as it is.
    if (lastId === null) return;
    // Every older entry was relayed: trimmed before the commit, or relayed by the chain since.
    try {
      await this.replicated();
      await this.send(committed.records);
    } catch (err) {
      this.outboxClean = false;
      throw err;
    }
    this.relayedThrough = lastId;
    this.outboxClean = true;
    // Not awaited: the trim goes out on the same connection ahead of this partition's next
    // command. Should it fail, the records stay and are relayed again (same ids).
    this.trimThrough(lastId).catch((err: unknown) => {
      this.outboxClean = false;
      this.log.warn({ err }, 'outbox trim failed; relayed again later');
    });
    this.deps.metrics.outboxBacklog.set({ partition: String(this.partition) }, 0);
  }

  private relayFailed(): void {
    this.deps.metrics.relayFailures.inc({ partition: String(this.partition) });
  }

  /**
   * Trims the outbox through `id` (relayed), once no commit of this worker is in flight, and
   * from then on this worker's entries up to it no longer count as in the outbox. Never while a
   * commit is in flight: ioredis resends a script Redis answered NOSCRIPT to (its cache flushed)
   * after the commands sent meanwhile, so such a trim could run before the commit, which would
   * then count entries as this worker's that were gone, and take another member's for them.
   */
  private async trimThrough(id: string): Promise<void> {
    while (this.commitInFlight !== null) await this.commitInFlight;
    this.trimIssued(id);
    await ackOutbox(this.deps.redis, this.keys, id);
  }

  private trimIssued(id: string): void {
    while (this.untrimmed.length > 0 && streamIdAtMost(this.untrimmed[0] as string, id)) this.untrimmed.shift();
  }

  /** A commit's changes were relayed: its fence is the relayed fence (the fence audit's "emitted"). */
  private relayedUpTo(committed: Committed | null): void {
    if (committed === null) return;
    for (const [topic, offset] of Object.entries(committed.fence)) this.relayedFence.set(topic, BigInt(offset));
  }

  /**
   * CRM_REDIS_WAIT_REPLICAS > 0: changes leave for Kafka only once that many replicas acknowledged
   * every write of this connection so far (Redis WAIT), so a failover to a replica cannot roll
   * back a change campaigns already received. Throws when they did not within the timeout: the
   * outbox keeps the changes and the unit is retried.
   */
  private async replicated(): Promise<void> {
    const { redisWaitReplicas: replicas, redisWaitTimeoutMs } = this.deps.config;
    if (replicas === 0) return;
    const acked = await this.deps.redis.wait(replicas, redisWaitTimeoutMs);
    if (acked < replicas) {
      throw new Error(`Redis WAIT: ${acked} of ${replicas} replicas acknowledged within ${redisWaitTimeoutMs} ms; changes stay in the outbox`);
    }
  }

  /**
   * Produces records to the changes topic (acks=all, idempotent), RELAY_CHUNK at a time: a
   * partition's record batch must stay under the broker's message.max.bytes.
   */
  private async send(records: readonly OutboxRecord[]): Promise<void> {
    const { changesSender, metrics } = this.deps;
    for (let i = 0; i < records.length; i += RELAY_CHUNK) {
      const chunk = records.slice(i, i + RELAY_CHUNK);
      await changesSender.send(chunk);
      metrics.relayed.inc(chunk.length);
    }
  }

  /**
   * Produces every outbox entry to the changes topic, oldest first, trimming as it goes (on the
   * relay chain: no other relay of this partition runs meanwhile). Commits may append while it
   * runs; it relays them too, and their own relays then find them relayed (`relayedThrough`).
   */
  private async drainOutbox(): Promise<number> {
    const { redis, metrics } = this.deps;
    let relayed = 0;
    let first = true;
    this.outboxClean = false;
    for (;;) {
      const entries = await readOutbox(redis, this.keys, DRAIN_ENTRIES);
      const last = entries[entries.length - 1];
      if (last === undefined) break;
      if (first) await this.replicated();
      first = false;
      const records = entries.flatMap((e) => e.records);
      await this.send(records);
      this.relayedThrough = last.id;
      await this.trimThrough(last.id);
      relayed += records.length;
    }
    // Empty: what commits append from now on is relayed by the chain.
    this.outboxClean = true;
    metrics.outboxBacklog.set({ partition: String(this.partition) }, 0);
    return relayed;
  }
}

/** One counter update per dimension and batch, not per change (prom-client label lookups add up). */
function countChanges(metrics: Metrics, changes: readonly SegmentChange[]): void {
  const perDimension = new Map<string, number>();
  for (const c of changes) perDimension.set(c.dimension, (perDimension.get(c.dimension) ?? 0) + 1);
  for (const [dimension, n] of perDimension) metrics.segmentChanges.inc({ dimension }, n);
}

/** The latest time (ms) of the admitted events of a batch; 0 when none. A refused event never moves the clock. */
function latestEventTime(parts: readonly DecodedPart[]): number {
  let latest = 0;
  for (const part of parts) {
    for (const d of part.valid) {
      const t = Date.parse(d.event.time);
      if (t > latest) latest = t;
    }
  }
  return latest;
}

function decodeStored(ctx: BatchContext, id: string): CustomerState | null {
  const stored = ctx.customers.get(id);
  return stored?.state ? decodeState(stored.state, id) : null;
}

/** The CloudEvent of a change: its id is the change's deterministic id, so a re-emission is recognisable. */
export function toChangeEvent(c: SegmentChange): SegmentChangeEvent {
  return {
    specversion: '1.0',
    id: c.id,
    source: SOURCE,
    type: 'crm.segment.changed',
    time: c.time,
    subject: c.customerId,
    data: { dimension: c.dimension, segment: c.segment, from: c.from, to: c.to, reason: c.reason, cause: c.cause },
  };
}

/** Segment index family of a change: custom segments index by their name. */
function toIndexMove(c: SegmentChange): IndexMove {
  if (c.dimension === 'custom') {
    const name = c.segment ?? 'unnamed';
    return { customerId: c.customerId, dimension: 'custom', from: c.from === null ? null : name, to: c.to === null ? null : name };
  }
  return { customerId: c.customerId, dimension: c.dimension, from: c.from, to: c.to };
}
