/**
 * The service creates the topics it needs (broker-side auto-creation is off) and refuses to
 * run when the input topics are not co-partitioned: with different partition counts, one
 * customer's events would land in different partitions and no member would see them all.
 */
import { createTopicsAndWait } from '@crm/infra';
import type { Admin } from 'kafkajs';
import { ConfigError } from './config.ts';

export async function ensureTopics(admin: Admin, topics: readonly string[], partitions: number): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await createTopicsAndWait(
      admin,
      missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
    );
  }
  const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
  return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
}

/** Throws a ConfigError naming each input topic's partition count when they differ. */
export function assertCoPartitioned(counts: ReadonlyMap<string, number>, inputTopics: readonly string[]): number {
  const seen = inputTopics.map((t) => [t, counts.get(t) ?? 0] as const);
  const distinct = new Set(seen.map(([, n]) => n));
  if (distinct.size !== 1) {
    throw new ConfigError(
      `input topics are not co-partitioned (${seen.map(([t, n]) => `${t}: ${n}`).join(', ')}); ` +
        'every input topic must have the same partition count so that partition p of each holds the same customers',
    );
  }
  return seen[0]?.[1] ?? 0;
}
