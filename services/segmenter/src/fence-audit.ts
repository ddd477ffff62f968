/**
 * The fence is the truth (docs/architecture.md, "Durability"): Redis' per-partition fence says
 * which records its state holds; Kafka's committed offset only says how far some member got. A
 * member therefore starts each topic-partition from its fence. A fence behind the committed
 * offset, or missing where an offset was committed, means Redis lost writes (a lost AOF tail, a
 * promoted lagging replica, a restore, a flush): the records between the fence and the committed
 * offset were applied once and are not in the state any more.
 *
 * This module decides, from the facts of one topic-partition, where to start and whether the
 * loss can be repaired by re-applying the records (they are still in the log) or needs an
 * operator (`crm replay`). Pure: the service gathers the facts and acts on the verdict.
 */

/** What to do when Redis lost writes (CRM_ON_FENCE_LOSS). */
export type FenceLossPolicy = 'reapply' | 'stop';

/** The facts about one input topic of one partition. Offsets are decimal strings (64-bit). */
export interface TopicFacts {
  topic: string;
  /** Redis' fence: the next offset to apply; null when the fence holds no entry for the topic. */
  fence: string | null;
  /**
   * The highest offset known to have been applied before: the group's committed offset, or what
   * this member itself saw in Redis earlier, whichever is higher; null when neither exists.
   */
  committed: string | null;
  /**
   * The offset below which every record's changes are known to be in the changes topic: the
   * group's committed offset (the relay precedes the offset commit), or the fence of the last
   * commit this member relayed, whichever is higher; null when neither exists.
   */
  emitted: string | null;
  /** The log start offset: records below it were deleted (retention) and cannot be read again. */
  logStart: string;
}

export type TopicVerdict =
  /** Redis holds at least what was committed: start at `from` (the fence; the log start when nothing was applied yet). */
  | { kind: 'start'; topic: string; from: string }
  /**
   * Redis lost writes and the records are still in the log: re-apply from `from`; below
   * `silentUntil` their changes were emitted before and are not emitted again.
   */
  | { kind: 'reapply'; topic: string; from: string; silentUntil: string | null; fence: string | null; committed: string }
  /** Redis lost writes and the partition must not be consumed: by policy, or the records needed were deleted from the log. */
  | { kind: 'hold'; topic: string; reason: 'policy' | 'log_truncated'; fence: string | null; committed: string; logStart: string };

/** The verdict for one topic-partition. */
export function judgeTopic(facts: TopicFacts, policy: FenceLossPolicy): TopicVerdict {
  const { topic, fence, committed, emitted, logStart } = facts;
  const behind = committed !== null && (fence === null ? BigInt(committed) > 0n : BigInt(fence) < BigInt(committed));
  if (!behind) return { kind: 'start', topic, from: fence ?? logStart };
  // A missing fence with records applied before: the state holds none of this topic's records, so
  // they are re-applied from the very first one, which must still be in the log.
  const from = fence ?? '0';
  if (policy === 'stop') return { kind: 'hold', topic, reason: 'policy', fence, committed, logStart };
  if (BigInt(logStart) > BigInt(from)) return { kind: 'hold', topic, reason: 'log_truncated', fence, committed, logStart };
  return { kind: 'reapply', topic, from, silentUntil: emitted !== null && BigInt(emitted) > BigInt(from) ? emitted : null, fence, committed };
}

/**
 * The verdict for a partition: its state is one unit across the input topics, so when one topic
 * must be held the whole partition is held (applying the others would compute changes from a
 * state that misses records).
 */
export function judgePartition(facts: readonly TopicFacts[], policy: FenceLossPolicy): { held: boolean; topics: TopicVerdict[] } {
  const topics = facts.map((f) => judgeTopic(f, policy));
  return { held: topics.some((v) => v.kind === 'hold'), topics };
}

/** What an operator reads when a partition is held. */
export function holdAdvice(reason: 'policy' | 'log_truncated'): string {
  return reason === 'log_truncated'
    ? 'the records needed to repair the state were deleted from the log: restore Redis from a copy that holds the committed offsets, or rebuild from what the log holds with `crm replay --group <new group> --key-prefix <new prefix>` and point the services at them'
    : 'CRM_ON_FENCE_LOSS=stop: restore Redis from a copy that holds the committed offsets, or restart with CRM_ON_FENCE_LOSS=reapply to re-apply from the fence, or rebuild with `crm replay --group <new group> --key-prefix <new prefix>`';
}

/**
 * Redis holds less than it held before: a fence this worker read or wrote earlier is behind, or
 * gone. Thrown before anything is written; the service audits the partition again.
 */
export class FenceLostError extends Error {
  override name = 'FenceLostError';
  readonly partition: number;
  readonly topic: string;
  /** The fence Redis holds now (null: gone). */
  readonly fence: string | null;
  /** The fence known before. */
  readonly known: string;
  constructor(partition: number, topic: string, fence: string | null, known: string) {
    super(`partition ${partition}, ${topic}: Redis' fence is ${fence ?? 'gone'}, it was ${known} before: Redis lost writes`);
    this.partition = partition;
    this.topic = topic;
    this.fence = fence;
    this.known = known;
  }
}
