/**
 * `crm topics create|describe`: the project's topics (with CRM_TOPIC_SUFFIX) and the check the
 * segmenter makes at start: every input topic has the same partition count (co-partitioned),
 * so partition p of each holds the same customers.
 */
import { createTopicsAndWait } from '@crm/infra';
import type { Admin } from 'kafkajs';
import { withAdmin } from '../clients.ts';
import { type CliConfig, inputTopics } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { formatTable } from '../table.ts';

export interface TopicInfo {
  topic: string;
  /** null when the topic does not exist. */
  partitions: number | null;
}

export interface CoPartitioning {
  ok: boolean;
  verdict: string;
}

/** Partition counts of `topics` (null for missing ones). */
export async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<TopicInfo[]> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const meta = present.length === 0 ? { topics: [] } : await admin.fetchTopicMetadata({ topics: present });
  const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  return topics.map((topic) => ({ topic, partitions: counts.get(topic) ?? null }));
}

/** The verdict on the input topics' partition counts. */
export function coPartitioning(infos: readonly TopicInfo[], inputs: readonly string[]): CoPartitioning {
  const rows = inputs.map((t) => infos.find((i) => i.topic === t) ?? { topic: t, partitions: null });
  const missing = rows.filter((r) => r.partitions === null).map((r) => r.topic);
  if (missing.length > 0) return { ok: false, verdict: `NOT READY: input topic(s) missing: ${missing.join(', ')} (crm topics create)` };
  const distinct = new Set(rows.map((r) => r.partitions));
  if (distinct.size !== 1) {
    return {
      ok: false,
      verdict:
        `NOT co-partitioned: ${rows.map((r) => `${r.topic} has ${r.partitions}`).join(', ')}; ` +
        'the segmenter refuses to start: every input topic needs the same partition count (add partitions to the smaller ones, then replay)',
    };
  }
  return { ok: true, verdict: `co-partitioned: all ${rows.length} input topics have ${rows[0]?.partitions} partitions` };
}

/** Creates the project topics that do not exist, with `partitions` each; returns the names created and every topic's count after. */
async function createMissingTopics(admin: Admin, config: CliConfig, partitions: number): Promise<{ created: string[]; after: TopicInfo[] }> {
  const topics = Object.values(config.topics);
  const before = await partitionCounts(admin, topics);
  const created = before.filter((t) => t.partitions === null).map((t) => t.topic);
  if (created.length > 0) {
    await createTopicsAndWait(
      admin,
      created.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
    );
  }
  return { created, after: await partitionCounts(admin, topics) };
}

export async function topicsCreate(io: Io, config: CliConfig, partitions: number): Promise<number> {
  return withAdmin(config, async (admin) => {
    const { created, after } = await createMissingTopics(admin, config, partitions);
    const rows = after.map((t) => [
      t.topic,
      t.partitions,
      created.includes(t.topic) ? 'created' : t.partitions === partitions ? 'exists' : `exists (not ${partitions})`,
    ]);
    println(io.stdout, formatTable(['topic', 'partitions', 'status'], rows));
    const verdict = coPartitioning(after, inputTopics(config));
    println(io.stdout, verdict.verdict);
    return verdict.ok ? 0 : 1;
  });
}

/**
 * Makes sure `topic` (one of the project's) exists before anything is produced to it. Missing:
 * a CliError naming `crm topics create`, or with `create` the project's missing topics are
 * created as `crm topics create` would, with the partition count of the input topics that
 * already exist (co-partitioning), else CRM_PARTITIONS; returns the names created.
 */
export async function ensureTopic(config: CliConfig, topic: string, create: boolean): Promise<string[]> {
  return withAdmin(config, async (admin) => {
    const [target] = await partitionCounts(admin, [topic]);
    if (target?.partitions != null) return [];
    if (!create) throw new CliError(`topic ${topic} does not exist: run crm topics create first (or pass --create-topics)`);
    const inputs = inputTopics(config);
    const existing = (await partitionCounts(admin, inputs)).find((t) => t.partitions !== null)?.partitions;
    const { created, after } = await createMissingTopics(admin, config, existing ?? config.partitions);
    const verdict = coPartitioning(after, inputs);
    if (!verdict.ok) throw new CliError(verdict.verdict);
    return created;
  });
}

export async function topicsDescribe(io: Io, config: CliConfig, json: boolean): Promise<number> {
  const topics = Object.values(config.topics);
  return withAdmin(config, async (admin) => {
    const infos = await partitionCounts(admin, topics);
    const verdict = coPartitioning(infos, inputTopics(config));
    if (json) {
      println(io.stdout, JSON.stringify({ topics: infos, coPartitioned: verdict.ok, verdict: verdict.verdict }));
    } else {
      const inputs = inputTopics(config);
      println(
        io.stdout,
        formatTable(
          ['topic', 'partitions', 'role'],
          infos.map((t) => [t.topic, t.partitions ?? 'missing', inputs.includes(t.topic) ? 'input' : 'output']),
        ),
      );
      println(io.stdout, verdict.verdict);
    }
    return verdict.ok ? 0 : 1;
  });
}

/** Partition count of the orders topic, the customers' partitioning; CliError when it does not exist. */
export async function inputPartitions(config: CliConfig): Promise<number> {
  return withAdmin(config, async (admin) => {
    const [orders] = await partitionCounts(admin, [config.topics.orders]);
    if (orders?.partitions == null) throw new CliError(`topic ${config.topics.orders} does not exist (crm topics create, or pass --partitions)`);
    return orders.partitions;
  });
}
