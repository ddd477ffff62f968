/**
 * The capacity model (docs/architecture.md, "Capacity"): from the CPU µs per event each
 * component spent in a throughput run, how many events per second one segmenter instance, one
 * Redis shard and one machine can carry, and so what a deployment of N instances should reach.
 * Pure arithmetic; the bench prints the model next to the rate it measured, so a run with
 * `--instances=2` checks the model's prediction against a real two-instance run.
 *
 * The model's assumptions, each a place where it stops holding:
 * - CPU per event is constant in the rate (true at full throughput, where batches are large;
 *   at low load the per-batch cost dominates: the latency phase shows it);
 * - a segmenter instance saturates when its JavaScript thread does (one core); its other
 *   threads (GC helpers, the libuv pool) add CPU beside it;
 * - a Redis shard is one thread: it saturates at one core, and a partition's keys share one
 *   hash tag, so one partition never spans shards;
 * - work is spread evenly over partitions, and at most one instance works a partition.
 */

/** CPU µs per event of each component, summed over instances (bench `cpu_us_per_event`). */
export interface CpuPerEvent {
  /** Every thread of the instances: what they take from the machine. */
  segmenter: number | null;
  /**
   * One instance's JavaScript thread, per event it handled: what bounds an instance (its GC
   * helper threads and the libuv pool run beside it, on another core when there is one).
   */
  js_thread?: number | null;
  redis: number | null;
  kafka: number | null;
}

export interface Deployment {
  /** Segmenter instances in one consumer group. */
  instances: number;
  /** Partitions of the input topics: no more instances than partitions do work. */
  partitions: number;
  /** Redis shards the partitions' keys are spread over (one on this machine). */
  redisShards: number;
  /**
   * Cores every process shares (the bench machine, where the broker, Redis and the segmenters
   * run on the same box), or null when each component has its own.
   */
  sharedCores: number | null;
}

export interface Capacity {
  /** Events/s one segmenter instance carries when its JavaScript thread uses a full core. */
  instance_eps: number;
  /** Events/s one Redis shard carries at one full core. */
  redis_shard_eps: number;
  /** Events/s the shared cores carry when every component's work is on them (null: not shared). */
  machine_eps: number | null;
  /** The least of the bounds above for this deployment: the rate the model predicts. */
  predicted_eps: number;
  /** Which bound sets the prediction. */
  bound: 'segmenter' | 'redis' | 'machine';
}

const US_PER_S = 1_000_000;

/** The model's prediction for `d`, from the CPU per event of a run; null when a figure is missing. */
export function capacity(cpu: CpuPerEvent, d: Deployment): Capacity | null {
  const { segmenter, redis, kafka } = cpu;
  if (segmenter === null || redis === null || segmenter <= 0 || redis <= 0) return null;
  const instance_eps = US_PER_S / (cpu.js_thread ?? segmenter);
  const redis_shard_eps = US_PER_S / redis;
  const working = Math.min(d.instances, d.partitions);
  const shards = Math.min(d.redisShards, d.partitions);
  const machine_eps = d.sharedCores === null || kafka === null ? null : (d.sharedCores * US_PER_S) / (segmenter + redis + kafka);
  const bounds: Array<[Capacity['bound'], number]> = [
    ['segmenter', working * instance_eps],
    ['redis', shards * redis_shard_eps],
  ];
  if (machine_eps !== null) bounds.push(['machine', machine_eps]);
  const [bound, predicted] = bounds.reduce((a, b) => (b[1] < a[1] ? b : a));
  return {
    instance_eps: Math.round(instance_eps),
    redis_shard_eps: Math.round(redis_shard_eps),
    machine_eps: machine_eps === null ? null : Math.round(machine_eps),
    predicted_eps: Math.round(predicted),
    bound,
  };
}

/**
 * What a target rate needs, at `headroom` (the share of a core each process may use, e.g. 0.6:
 * room for bursts, catch-up after an outage, and GC): segmenter instances and Redis shards.
 * Null when the rate cannot be reached by adding instances: more partitions are needed first.
 */
export function sizing(cpu: CpuPerEvent, eventsPerSecond: number, headroom: number, partitions: number): { instances: number; redisShards: number } | null {
  const { segmenter, redis } = cpu;
  if (segmenter === null || redis === null || headroom <= 0 || headroom > 1) return null;
  const instances = Math.max(1, Math.ceil((eventsPerSecond * (cpu.js_thread ?? segmenter)) / (US_PER_S * headroom)));
  const redisShards = Math.max(1, Math.ceil((eventsPerSecond * redis) / (US_PER_S * headroom)));
  if (instances > partitions || redisShards > partitions) return null;
  return { instances, redisShards };
}
