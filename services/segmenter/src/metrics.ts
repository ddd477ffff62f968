/**
 * The segmenter's Prometheus metrics (prom-client), with conventional names and units.
 * One registry per service instance, so tests can run several in one process. `runtime` is the
 * event-loop delay and GC pause telemetry (runtime-telemetry.ts); `runtime.stop()` ends it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { startRuntimeTelemetry } from './runtime-telemetry.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    runtime: startRuntimeTelemetry(registry),
    eventsConsumed: new Counter({
      name: 'crm_events_consumed_total',
      help: 'Input records consumed, by topic and outcome (applied, late, erased, dead_letter, already_applied)',
      labelNames: ['topic', 'outcome'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'crm_batch_size_events',
      help: 'Records per consumed batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'crm_batch_duration_seconds',
      help: 'Time to process one batch, decode to offset resolution',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    redisCommit: new Histogram({
      name: 'crm_redis_commit_duration_seconds',
      help: 'Latency of the atomic batch commit (commitBatch.lua)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    commitConflicts: new Counter({
      name: 'crm_commit_conflicts_total',
      help: 'Batch commits refused by the fence or a customer version (then re-read and retried)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'crm_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'crm_outbox_backlog',
      help: 'Segment changes in the outbox not yet relayed, by partition',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    timersDue: new Gauge({
      name: 'crm_timers_due',
      help: 'Customers due for evaluation at the last timer check, by partition',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    timersFired: new Counter({ name: 'crm_timers_fired_total', help: 'Customers evaluated because a timer fell due', registers: [registry] }),
    timerFailures: new Counter({
      name: 'crm_timer_failures_total',
      help: "Timer-loop work that failed and is retried on the next tick (logged): a partition's timer evaluation, the stream clock's read, or the backfill's go-live check",
      registers: [registry],
    }),
    segmentChanges: new Counter({
      name: 'crm_segment_changes_total',
      help: 'Segment changes committed, by dimension',
      labelNames: ['dimension'] as const,
      registers: [registry],
    }),
    relayed: new Counter({ name: 'crm_segment_changes_relayed_total', help: 'Segment changes produced to the changes topic', registers: [registry] }),
    relayFailures: new Counter({
      name: 'crm_relay_failures_total',
      help: 'Relays of a partition outbox to the changes topic that failed (the changes stay in the outbox and are relayed again)',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    batchesDropped: new Counter({
      name: 'crm_batches_dropped_total',
      help: 'Fetched batches dropped unapplied, to be fetched again: after a failed earlier batch of their topic-partition, or queued across a rebalance',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rebalances: new Counter({ name: 'crm_rebalances_total', help: 'Consumer group rebalances this member took part in', registers: [registry] }),
    rescores: new Counter({ name: 'crm_rescore_sweeps_total', help: 'Re-scoring sweeps after the RFM quantile cuts moved', registers: [registry] }),
    backfilling: new Gauge({ name: 'crm_backfilling', help: '1 while rebuilding state quietly (backfill mode), 0 when live', registers: [registry] }),
    fenceRegressions: new Counter({
      name: 'crm_fence_regressions_total',
      help: 'Topic-partitions found with a Redis fence behind the offset already committed to Kafka, or missing where offsets exist: Redis lost writes',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    partitionsHeld: new Gauge({
      name: 'crm_partitions_held',
      help: 'Owned partitions not consumed because Redis lost writes and they cannot (or by policy may not) be re-applied: an operator must act',
      registers: [registry],
    }),
    assignedPartitions: new Gauge({ name: 'crm_assigned_partitions', help: 'Partitions (per input topic) assigned to this member', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
