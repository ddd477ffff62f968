/**
 * Lag arithmetic, free of I/O: from a group's committed offsets, the topics' end offsets and
 * the timestamps of the oldest unconsumed records, the figures per topic-partition. The same
 * figures as Kafka's consumer-groups tool (LAG = LOG-END-OFFSET - CURRENT-OFFSET), plus the
 * lag in seconds: the age of the oldest record the group has not consumed yet.
 */

/** A group's committed offset on one topic-partition: the next record it will read. */
export interface CommittedOffset {
  group: string;
  topic: string;
  partition: number;
  offset: number;
}

/** A partition's bounds: `low` is the first record still stored, `high` the log-end offset. */
export interface PartitionBounds {
  partition: number;
  low: number;
  high: number;
}

/** A record whose timestamp is wanted: the oldest unconsumed one of a lagging partition. */
export interface ProbeTarget {
  topic: string;
  partition: number;
  /** The record's offset (the committed offset, or the log start when retention deleted it). */
  offset: number;
  /** The log-end offset when the target was chosen: records from here on are newer. */
  end: number;
}

export interface LagRow {
  group: string;
  topic: string;
  partition: number;
  committedOffset: number;
  endOffset: number;
  /** Records produced but not yet consumed (committed) by the group. */
  lagMessages: number;
  /** Age in seconds of the oldest unconsumed record; 0 without lag; null when its timestamp could not be read. */
  lagSeconds: number | null;
  /** Timestamp (ms since the epoch) of the oldest unconsumed record; null without lag or when unknown. */
  oldestUnconsumedTimestamp: number | null;
}

export const probeKey = (topic: string, partition: number, offset: number): string => `${topic}\u0000${partition}\u0000${offset}`;

/** Where the oldest unconsumed record of a lagging partition is; undefined without lag. */
function oldestOffset(c: CommittedOffset, bounds: PartitionBounds | undefined): ProbeTarget | undefined {
  if (bounds === undefined || c.offset >= bounds.high) return undefined;
  // Records below the log start were deleted by retention: the oldest one left is at `low`.
  return { topic: c.topic, partition: c.partition, offset: Math.max(c.offset, bounds.low), end: bounds.high };
}

const boundsOf = (ends: ReadonlyMap<string, readonly PartitionBounds[]>, topic: string, partition: number) =>
  ends.get(topic)?.find((b) => b.partition === partition);

/** The records whose timestamps the lag in seconds needs, one per lagging partition and offset. */
export function probeTargets(committed: readonly CommittedOffset[], ends: ReadonlyMap<string, readonly PartitionBounds[]>): ProbeTarget[] {
  const targets = new Map<string, ProbeTarget>();
  for (const c of committed) {
    const t = oldestOffset(c, boundsOf(ends, c.topic, c.partition));
    if (t !== undefined) targets.set(probeKey(t.topic, t.partition, t.offset), t);
  }
  return [...targets.values()];
}

/**
 * One row per committed offset whose topic-partition has known bounds, sorted by group, topic
 * and partition. `timestamps` maps probeKey(topic, partition, offset) to a record's timestamp
 * in ms; `now` is the instant the ages are measured from (ms).
 */
export function computeLagRows(
  committed: readonly CommittedOffset[],
  ends: ReadonlyMap<string, readonly PartitionBounds[]>,
  timestamps: ReadonlyMap<string, number>,
  now: number,
): LagRow[] {
  const rows: LagRow[] = [];
  for (const c of committed) {
    const bounds = boundsOf(ends, c.topic, c.partition);
    if (bounds === undefined) continue;
    // A committed offset past the end (the log was truncated) is no lag, as for Kafka's tool once it catches up.
    const lagMessages = Math.max(0, bounds.high - c.offset);
    const target = oldestOffset(c, bounds);
    const ts = target === undefined ? undefined : timestamps.get(probeKey(target.topic, target.partition, target.offset));
    rows.push({
      group: c.group,
      topic: c.topic,
      partition: c.partition,
      committedOffset: c.offset,
      endOffset: bounds.high,
      lagMessages,
      // A record stamped in the future (producer clock ahead) is no older than now.
      lagSeconds: target === undefined ? 0 : ts === undefined ? null : Math.max(0, now - ts) / 1000,
      oldestUnconsumedTimestamp: ts ?? null,
    });
  }
  return rows.sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
