/**
 * The lag monitor's Prometheus metrics (prom-client). Per-partition gauges are rewritten
 * whole after each collection, so a group or partition that disappears stops being exported.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LagSnapshot } from './collect.ts';

const PARTITION = ['group', 'topic', 'partition'] as const;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    lagMessages: new Gauge({
      name: 'crm_consumer_lag_messages',
      help: 'Records not yet consumed by the group: log-end offset minus committed offset',
      labelNames: PARTITION,
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'crm_consumer_lag_seconds',
      help: 'Age of the oldest record the group has not consumed yet (0 without lag)',
      labelNames: PARTITION,
      registers: [registry],
    }),
    committedOffset: new Gauge({
      name: 'crm_consumer_committed_offset',
      help: "The group's committed offset (the next record it will read)",
      labelNames: PARTITION,
      registers: [registry],
    }),
    endOffset: new Gauge({
      name: 'crm_topic_end_offset',
      help: "The partition's log-end offset (the offset of the next record produced)",
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
    groupMembers: new Gauge({
      name: 'crm_consumer_group_members',
      help: 'Live members of the consumer group (0 when all its consumers are down)',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
    groupUp: new Gauge({
      name: 'crm_consumer_group_up',
      help: '1 when the consumer group has at least one live member, else 0',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
    scrapeErrors: new Counter({
      name: 'crm_lag_monitor_scrape_errors_total',
      help: 'Collections or parts of one that failed, by stage (collect, fetch_offsets, end_offsets, timestamps)',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    collectDuration: new Histogram({
      name: 'crm_lag_monitor_collect_duration_seconds',
      help: 'Time to collect the lag of every watched group',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'crm_lag_monitor_last_success_timestamp_seconds',
      help: 'When the last collection succeeded (Unix time)',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Replaces every per-group and per-partition series with the snapshot's figures. */
export function exportSnapshot(m: Metrics, s: LagSnapshot): void {
  for (const g of [m.lagMessages, m.lagSeconds, m.committedOffset, m.endOffset, m.groupMembers, m.groupUp]) g.reset();
  for (const g of s.groups) {
    m.groupMembers.set({ group: g.group }, g.members);
    m.groupUp.set({ group: g.group }, g.members > 0 ? 1 : 0);
    for (const r of g.rows) {
      const labels = { group: r.group, topic: r.topic, partition: String(r.partition) };
      m.lagMessages.set(labels, r.lagMessages);
      m.committedOffset.set(labels, r.committedOffset);
      // Unknown this round: no sample rather than a wrong one.
      if (r.lagSeconds !== null) m.lagSeconds.set(labels, r.lagSeconds);
    }
  }
  for (const t of s.topics) {
    for (const p of t.partitions) m.endOffset.set({ topic: t.topic, partition: String(p.partition) }, p.high);
  }
  for (const e of s.errors) m.scrapeErrors.inc({ stage: e.stage });
  m.lastSuccess.set(s.at / 1000);
}
