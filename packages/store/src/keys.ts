/**
 * The one place Redis key names are built. Every key of partition p carries the hash tag
 * `{p}`, so one Lua script can touch all of a partition's keys and Redis Cluster keeps them
 * in one slot. `prefix` isolates deployments (and tests) sharing a Redis.
 */
export interface PartitionKeys {
  /** Hash: input topic -> next offset to apply (the offset fence). */
  fence: string;
  /** Hash: customer id -> the customer's record `<version>|<packed history>|<encoded state>` (record.ts). */
  state: string;
  /** Stream: segment changes waiting for the relay. */
  outbox: string;
  /** Sorted set: customer id scored by the instant (ms) it is next due for evaluation. */
  timers: string;
  /** Hash: `<dimension>:<value>` -> member count. */
  counts: string;
  /** String: JSON RfmSummary of the partition's customers (quantile scoring mode). */
  rfmSummary: string;
  /** Set of the members of one segment value. */
  members(dimension: string, value: string): string;
}

export function partitionKeys(prefix: string, partition: number): PartitionKeys {
  const base = `${prefix}:{${partition}}`;
  return {
    fence: `${base}:fence`,
    state: `${base}:state`,
    outbox: `${base}:outbox`,
    timers: `${base}:timers`,
    counts: `${base}:counts`,
    rfmSummary: `${base}:rfm-summary`,
    members: (dimension, value) => `${base}:seg:${dimension}:${value}`,
  };
}

/** Keys that belong to no partition. */
export function globalKeys(prefix: string): { rfmCuts: string; streamClock: string } {
  return {
    /** String: JSON {cuts, computedAt} of the RFM score cuts in force (quantile scoring mode). */
    rfmCuts: `${prefix}:rfm-cuts`,
    /**
     * String: the deployment's stream time (CRM_CLOCK=stream), decimal epoch ms: the contract
     * for the segmenter to write; readers (the profile API) derive at it when present.
     */
    streamClock: `${prefix}:stream-clock`,
  };
}
